import Logging
import Storage

extension RetryPolicy {
    /// Runs `attempt` (numbered from 1) until its outcome is final or the attempts run out,
    /// sleeping with backoff in between: the one retry loop of the store layer.
    ///
    /// A returned value is judged by `classify`; when it asks for a retry but no attempt is left,
    /// it is returned as it is, for the caller to map. A thrown error is judged by
    /// `FailureClassifier`; the last transport error becomes `StorageError.io` naming `object`,
    /// `operation` and the number of attempts (an untrusted certificate becomes
    /// `StorageError.untrustedCertificate`), any other error is rethrown unchanged.
    func run<Value>(
        object: String, operation: String? = nil, logger: Logger? = nil,
        classify: (Value) -> RetryDecision,
        _ attempt: (_ attempt: Int) throws -> Value
    ) throws -> Value {
        var number = 0
        while true {
            number += 1
            let decision: RetryDecision
            let reason: String
            do {
                let value = try attempt(number)
                decision = classify(value)
                guard case .retry = decision, number < maxAttempts else { return value }
                reason = Self.describe(value)
            } catch {
                decision = FailureClassifier.decision(for: error)
                guard case .retry = decision, number < maxAttempts else {
                    throw Self.finalError(error, object: object, operation: operation, attempts: number)
                }
                reason = "\(error)"
            }
            logger?.debug("retrying \(operation.map { "\($0) " } ?? "")\(object): \(reason)")
            if case .retry(let retryAfter) = decision { sleep(afterAttempt: number, retryAfter: retryAfter) }
        }
    }

    /// Sends through `attempt` until an answer is not retryable (or the attempts run out) and
    /// returns that answer whatever its status.
    func run(
        object: String, operation: String? = nil, logger: Logger? = nil,
        _ attempt: (_ attempt: Int) throws -> HTTPResponse
    ) throws -> HTTPResponse {
        try run(
            object: object, operation: operation, logger: logger, classify: FailureClassifier.decision(for:), attempt)
    }

    /// A log line's account of an answer: its status, never its body or URL.
    private static func describe(_ value: Any) -> String {
        if let response = value as? HTTPResponse { return "HTTP \(response.status)" }
        return (value as? any CustomStringConvertible)?.description ?? "retryable answer"
    }

    private static func finalError(_ error: any Error, object: String, operation: String?, attempts: Int) -> any Error {
        guard let error = error as? HTTPTransportError else { return error }
        if error.kind == .untrustedCertificate, let peer = error.peer {
            return StorageError.untrustedCertificate(peer: peer, reason: error.message)
        }
        let context = (operation.map { "\($0), " } ?? "") + "after \(attempts) attempts"
        return StorageError.io(object: object, reason: "\(error.message) (\(context))")
    }
}

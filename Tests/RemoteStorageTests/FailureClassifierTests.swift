import Foundation
import Storage
import Testing

@testable import RemoteStorage

/// Which request outcomes the store layer tries again, and how the one retry loop counts and
/// reports attempts; no server involved.
@Suite("Failure classifier and retry loop")
struct FailureClassifierTests {
    func answer(_ status: Int, code: String? = nil, root: String = "Error", headers: [String: String] = [:])
        -> HTTPResponse
    {
        let body = code.map { "<\(root)><Code>\($0)</Code><Message>m</Message></\(root)>" } ?? ""
        return HTTPResponse(status: status, headers: headers, body: Array(body.utf8))
    }

    @Test func serverSideStatusesAreRetried() {
        for status in [429, 500, 502, 503, 504] {
            #expect(FailureClassifier.decision(for: answer(status)).isRetry, "HTTP \(status)")
        }
    }

    @Test func clientErrorsAndSuccessesAreFinal() {
        for status in [200, 206, 301, 400, 401, 403, 404, 409, 412, 416, 501] {
            #expect(FailureClassifier.decision(for: answer(status)) == .final, "HTTP \(status)")
        }
        #expect(FailureClassifier.decision(for: answer(404, code: "NoSuchKey")) == .final)
        #expect(FailureClassifier.decision(for: answer(400, code: "InvalidArgument")) == .final)
    }

    @Test func busyOrDamagedCodesInA400AreRetried() {
        for code in ["SlowDown", "RequestTimeout", "XAmzContentSHA256Mismatch", "BadDigest"] {
            #expect(FailureClassifier.decision(for: answer(400, code: code)).isRetry, "\(code)")
        }
    }

    @Test func retryAfterIsCarried() {
        let slowDown = answer(503, code: "SlowDown", headers: ["retry-after": "3"])
        #expect(FailureClassifier.decision(for: slowDown) == .retry(retryAfter: 3))
        #expect(FailureClassifier.decision(for: answer(429)) == .retry(retryAfter: nil))
        // The date form is not a number of seconds: the backoff alone decides.
        let dated = answer(503, headers: ["retry-after": "Fri, 02 Jan 2026 03:04:05 GMT"])
        #expect(FailureClassifier.decision(for: dated) == .retry(retryAfter: nil))
    }

    @Test func anErrorDocumentInASuccessIsJudgedByItsCode() {
        let busy = answer(200, code: "InternalError")
        #expect(FailureClassifier.decision(for: busy, errorCode: "InternalError").isRetry)
        #expect(FailureClassifier.decision(for: busy, errorCode: "AccessDenied") == .final)
        // Only when the caller asks: an object's body is never parsed as an error.
        #expect(FailureClassifier.decision(for: busy) == .final)
    }

    @Test func transportFailuresAreRetriedExceptTLS() {
        let kinds: [HTTPTransportError.Kind] = [.connect, .timeout, .reset, .truncated, .other]
        for kind in kinds {
            let error = HTTPTransportError(kind: kind, message: "x", partial: nil)
            #expect(FailureClassifier.decision(for: error).isRetry, "\(kind)")
        }
        let tls = HTTPTransportError(kind: .tls, message: "certificate", partial: nil)
        #expect(FailureClassifier.decision(for: tls) == .final)
    }

    @Test func storeVerdictsAreFinal() {
        let verdicts: [StorageError] = [
            .changed(object: "o", reason: "ETag a, expected b"), .notFound(object: "o"),
            .outOfRange(object: "o", range: ByteRange(offset: 0, length: 1), size: 0),
            .unauthorized(object: "o", reason: "r"), .io(object: "o", reason: "206 answer for another range"),
        ]
        for verdict in verdicts {
            #expect(FailureClassifier.decision(for: verdict) == .final, "\(verdict)")
        }
    }

    let quick = RetryPolicy(maxAttempts: 3, baseDelay: 0, maxDelay: 0)

    @Test func runRetriesUntilAnAnswerIsFinal() throws {
        var statuses = [503, 500, 200]
        var attempts: [Int] = []
        let response = try quick.run(object: "o") { attempt in
            attempts.append(attempt)
            return answer(statuses.removeFirst())
        }
        #expect(response.status == 200)
        #expect(attempts == [1, 2, 3])
    }

    @Test func runReturnsTheLastRetryableAnswerWhenAttemptsRunOut() throws {
        var count = 0
        let response = try quick.run(object: "o") { _ in
            count += 1
            return answer(503, code: "SlowDown")
        }
        #expect(response.status == 503)
        #expect(count == 3)
    }

    @Test func runReportsTheLastTransportErrorWithTheAttempts() {
        var count = 0
        #expect {
            try quick.run(object: "s3://b/k", operation: "PUT") { _ -> HTTPResponse in
                count += 1
                throw HTTPTransportError(kind: .reset, message: "Connection reset", partial: nil)
            }
        } throws: { error in
            error as? StorageError
                == .io(object: "s3://b/k", reason: "Connection reset (PUT, after 3 attempts)")
        }
        #expect(count == 3)
    }

    @Test func runStopsAtOnceOnAFinalError() {
        var count = 0
        #expect(throws: StorageError.changed(object: "o", reason: "r")) {
            try quick.run(object: "o") { _ -> HTTPResponse in
                count += 1
                throw StorageError.changed(object: "o", reason: "r")
            }
        }
        let tls = HTTPTransportError(kind: .tls, message: "bad certificate", partial: nil)
        #expect(throws: StorageError.io(object: "o", reason: "bad certificate (after 1 attempts)")) {
            try quick.run(object: "o") { _ -> HTTPResponse in
                count += 1
                throw tls
            }
        }
        #expect(count == 2)
    }
}

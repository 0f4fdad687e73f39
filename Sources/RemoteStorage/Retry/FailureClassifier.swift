import Storage

/// Sorts the outcomes of one request attempt into retryable and final, for every request path
/// (S3 calls, ranged downloads, presigned-URL reads).
///
/// Retryable: transport failures (connect, reset, timeout, stall, a truncated body) except TLS
/// ones (a failed handshake, an untrusted certificate), which no retry fixes; 429, 500, 502, 503 and 504 (honouring `Retry-After`); a 400 whose
/// S3 code says the service was busy or the payload arrived damaged. Final: every other answer
/// (4xx such as not found or denied, a failed `If-Match`), and the store layer's own verdicts
/// (`changed`, `notFound`, `outOfRange`, …), which a second attempt would only repeat.
enum FailureClassifier {
    /// S3 codes that mean "try again": the service was busy, or a payload arrived damaged (its
    /// signed SHA-256 or Content-MD5 does not match) and is sent again.
    static let retryableCodes: Set<String> = [
        "SlowDown", "InternalError", "RequestTimeout", "ServiceUnavailable", "XAmzContentSHA256Mismatch", "BadDigest",
    ]

    /// Statuses that say the server, not the request, was at fault this time.
    static let retryableStatuses: Set<Int> = [429, 500, 502, 503, 504]

    /// An answer that arrived whole. Only a 400's body is parsed, for its S3 code.
    static func decision(for response: HTTPResponse) -> RetryDecision {
        if response.status == 400 {
            return decision(for: response, errorCode: XMLTree.parse(response.body)?.value("Code"))
        }
        return decision(for: response, errorCode: nil)
    }

    /// An answer whose S3 error code the caller already read (CompleteMultipartUpload reports
    /// errors in the body of a 200).
    static func decision(for response: HTTPResponse, errorCode: String?) -> RetryDecision {
        if retryableStatuses.contains(response.status) || errorCode.map(retryableCodes.contains) == true {
            return .retry(retryAfter: retryAfter(response))
        }
        return .final
    }

    /// A thrown failure: transport errors are retried unless they are TLS ones; anything else
    /// (the store layer's verdicts, a malformed answer) is final.
    static func decision(for error: any Error) -> RetryDecision {
        guard let error = error as? HTTPTransportError else { return .final }
        switch error.kind {
        case .tls, .untrustedCertificate: return .final
        case .connect, .timeout, .reset, .truncated, .other: return .retry(retryAfter: nil)
        }
    }

    /// The server's `Retry-After` in seconds (the delta form; a date is ignored).
    static func retryAfter(_ response: HTTPResponse) -> Double? {
        response.headers["retry-after"].flatMap(Double.init)
    }
}

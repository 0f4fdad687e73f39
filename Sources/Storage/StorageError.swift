/// Failures of the store layer. Messages name the object and never contain secrets.
public enum StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The object or bucket does not exist.
    case notFound(object: String)
    /// A read reached past the end of the object.
    case outOfRange(object: String, range: ByteRange, size: UInt64)
    /// The object changed since it was opened (ETag or size differs).
    case changed(object: String, reason: String)
    /// The store refused our credentials or signature.
    case unauthorized(object: String, reason: String)
    /// Configuration is missing or invalid; `reason` names the setting to fix.
    case invalidConfiguration(reason: String)
    /// The server's TLS certificate is not trusted by the configured CAs; `peer` is `host:port`,
    /// `reason` what the check said. A setting to fix (which CAs to trust), never retried.
    case untrustedCertificate(peer: String, reason: String)
    /// Transport or local I/O failure after retries.
    case io(object: String, reason: String)
    /// The caller asked the work to stop (`CancellationFlag`); `reason` says why.
    case cancelled(reason: String)
    /// A multipart upload needed more than 10,000 parts of `partSize` bytes (S3's limit): the object
    /// grew past the size it was planned for.
    case tooManyParts(object: String, partSize: Int)

    public var description: String {
        switch self {
        case .notFound(let object): return "\(object): not found"
        case .outOfRange(let object, let range, let size):
            return
                "\(object): read of \(range) is outside the object (size \(size)); the object is truncated or corrupt"
        case .changed(let object, let reason): return "\(object): object changed while in use (\(reason))"
        case .unauthorized(let object, let reason): return "\(object): access denied (\(reason))"
        case .invalidConfiguration(let reason): return "invalid store configuration: \(reason)"
        case .untrustedCertificate(let peer, let reason):
            return "TLS certificate of \(peer) is not trusted (\(reason))"
        case .io(let object, let reason): return object.isEmpty ? reason : "\(object): \(reason)"
        case .cancelled(let reason): return reason
        case .tooManyParts(let object, let partSize):
            return "\(object): the object outgrew 10,000 parts of \(partSize) bytes"
        }
    }
}

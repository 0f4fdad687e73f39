import MountFS
import SquashReader
import Storage

/// Every failure the facade reports, with a stable code (the vendor SDK's codes where they exist).
public struct BackupError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Stable, machine-readable error codes.
    public enum Code: String, Sendable, Codable {
        case invalidConfig = "INVALID_BACKUP_CONFIG"
        case notFound = "BACKUP_NOT_FOUND"
        case expired = "BACKUP_EXPIRED"
        case createFailed = "BACKUP_CREATE_FAILED"
        case restoreFailed = "BACKUP_RESTORE_FAILED"
        case interrupted = "OPERATION_INTERRUPTED"
        /// Another restore or create of the same directory is running.
        case busy = "BACKUP_BUSY"
        case invalidImage = "INVALID_IMAGE"
        case mountFailed = "MOUNT_FAILED"
        /// A verify found bytes that differ from what was stored at create.
        case damaged = "BACKUP_DAMAGED"
    }

    public var code: Code
    /// What happened, in the facade's words; names no command-line flag (the CLI adds those).
    public var message: String
    /// The situation, when a caller may act on it (or offer a way out of it); nil for the rest.
    public var reason: Reason?

    public init(_ code: Code, _ message: String, reason: Reason? = nil) {
        self.code = code
        self.message = message
        self.reason = reason
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// Maps lower-layer errors onto codes, keeping their messages.
    static func wrapping(_ error: any Error, as fallback: Code) -> BackupError {
        switch error {
        case let error as BackupError: return error
        case let error as StorageError:
            switch error {
            case .notFound: return BackupError(.notFound, error.description)
            case .invalidConfiguration: return BackupError(.invalidConfig, error.description)
            case .untrustedCertificate(let peer, _):
                // Which CAs to trust is a setting; the certificate is never accepted regardless.
                return BackupError(.invalidConfig, error.description, reason: .untrustedCertificate(peer: peer))
            case .unauthorized:
                // Name the settings to check, never their values.
                return BackupError(
                    .invalidConfig,
                    error.description + "; check R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY "
                        + "(or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
            default: return BackupError(fallback, error.description)
            }
        case let error as ImageError:
            if case .storage(let inner) = error { return wrapping(inner, as: fallback) }
            return BackupError(.invalidImage, error.description)
        case let error as MountError:
            let reason: Reason? =
                switch error {
                case .mountpointNotEmpty(let path): .mountpointNotEmpty(path: path)
                default: nil
                }
            return BackupError(.mountFailed, error.description, reason: reason)
        default: return BackupError(fallback, "\(error)")
        }
    }
}

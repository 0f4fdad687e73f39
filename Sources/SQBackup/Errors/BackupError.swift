import MountFS
import SquashReader
import Storage

/// Every failure the facade reports, with a stable code (the vendor SDK's codes where they exist).
public struct BackupError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Stable, machine-readable error codes.
    public enum Code: String, Sendable, Codable {
        /// The store settings (or an option) are wrong; the message names the setting.
        case invalidConfig = "INVALID_BACKUP_CONFIG"
        /// The backup (or image) does not exist.
        case notFound = "BACKUP_NOT_FOUND"
        /// The backup has expired (treated as not found until pruned).
        case expired = "BACKUP_EXPIRED"
        /// A create failed ("directory not found", an upload to R2/S3 that failed, …).
        case createFailed = "BACKUP_CREATE_FAILED"
        /// A restore failed ("target directory exists", a store that stopped answering, …).
        case restoreFailed = "BACKUP_RESTORE_FAILED"
        /// The work was stopped on request (a signal, a cancelled task); nothing was half-written.
        case interrupted = "OPERATION_INTERRUPTED"
        /// Another restore or create of the same directory is running.
        case busy = "BACKUP_BUSY"
        /// The image or its meta.json cannot be read as what it claims to be.
        case invalidImage = "INVALID_IMAGE"
        /// A mount or unmount failed.
        case mountFailed = "MOUNT_FAILED"
        /// A verify found bytes that differ from what was stored at create.
        case damaged = "BACKUP_DAMAGED"
    }

    /// What kind of failure it is; stable across versions.
    public var code: Code
    /// What happened, in the facade's words; names no command-line flag (the CLI adds those).
    public var message: String
    /// The situation, when a caller may act on it (or offer a way out of it); nil for the rest.
    public var reason: Reason?

    /// An error with `code`, `message` and, when a caller may act on it, `reason`.
    public init(_ code: Code, _ message: String, reason: Reason? = nil) {
        self.code = code
        self.message = message
        self.reason = reason
    }

    /// "CODE: message".
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

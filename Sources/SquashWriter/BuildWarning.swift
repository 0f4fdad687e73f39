/// Something the build worked around; the image is still valid.
public struct BuildWarning: Sendable, Equatable, CustomStringConvertible {
    /// What happened.
    public enum Kind: String, Sendable {
        /// The file changed (size, mtime or content length) while it was read; the image holds the bytes read.
        case changedWhileReading
        /// The entry vanished or was replaced between the scan and the read; it is left out.
        case vanished
        /// Unreadable and `skipUnreadable` is set; left out.
        case skippedUnreadable
        /// A timestamp outside squashfs's 1970…2106 range was clamped.
        case timestampClamped
        /// An extended attribute squashfs can't hold (only user., trusted. and security. exist) was dropped.
        case xattrDropped
        /// A mount point of another filesystem, stored as an empty directory (`oneFileSystem`).
        case mountPointNotCrossed
    }

    public var kind: Kind
    public var path: String
    public var message: String

    public var description: String { "\(path): \(message)" }
}

/// A backup the browser was asked for no longer exists or has expired: the name is answered as
/// missing (ENOENT), not as an I/O error.
public struct BackupUnavailable: Error, Sendable, CustomStringConvertible {
    public let id: String
    public let reason: String

    public init(id: String, reason: String) {
        self.id = id
        self.reason = reason
    }

    public var description: String { "backup \(id): \(reason)" }
}

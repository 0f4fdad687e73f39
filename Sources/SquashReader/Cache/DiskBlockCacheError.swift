/// Why a disk block cache could not be opened.
public struct DiskBlockCacheError: Error, Equatable, Sendable, CustomStringConvertible {
    public var directory: String
    public var reason: String

    public init(directory: String, reason: String) {
        self.directory = directory
        self.reason = reason
    }

    public var description: String {
        "block cache \(directory): \(reason) (choose another with --cache-dir, or mount without a disk cache)"
    }
}

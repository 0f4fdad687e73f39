/// A run of a regular file's bytes that is either stored data or a sparse hole (reads as zeros).
public struct FileDataRange: Sendable, Equatable {
    public var offset: UInt64
    public var length: UInt64
    /// True when the image stores no data for the run: a restore can leave it unwritten.
    public var isHole: Bool

    public init(offset: UInt64, length: UInt64, isHole: Bool) {
        self.offset = offset
        self.length = length
        self.isHole = isHole
    }
}

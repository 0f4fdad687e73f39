/// A half-open span of bytes `[offset, offset + length)` inside an object.
public struct ByteRange: Hashable, Sendable, CustomStringConvertible {
    public var offset: UInt64
    public var length: Int

    public init(offset: UInt64, length: Int) {
        self.offset = offset
        self.length = length
    }

    /// The first offset past the range.
    public var end: UInt64 { offset + UInt64(length) }

    public var description: String { "bytes \(offset)-\(end) (\(length))" }
}

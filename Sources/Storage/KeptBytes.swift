/// The head and tail of one object version that its opener already read (an image's superblock
/// and metadata tables): reads inside them cost nothing, and a read that ends in the tail only
/// fetches the part before it.
public struct KeptBytes: Sendable {
    public let size: UInt64
    private let head: [UInt8]
    private let tail: [UInt8]
    private var tailOffset: UInt64 { size - UInt64(tail.count) }

    /// Nothing kept.
    public init(size: UInt64) { self.init(size: size, head: [], tail: []) }

    /// `head` must be the object's first bytes and `tail` its last ones; longer than the object, they are dropped.
    public init(size: UInt64, head: [UInt8], tail: [UInt8]) {
        self.size = size
        self.head = UInt64(head.count) <= size ? head : []
        self.tail = UInt64(tail.count) <= size ? tail : []
    }

    /// Whether `range` (inside the object) can be answered without fetching.
    public func holds(_ range: ByteRange) -> Bool {
        range.end <= UInt64(head.count) || (!tail.isEmpty && range.offset >= tailOffset)
    }

    /// The bytes of `range` (inside the object): kept ones as they are, the rest through `fetch`.
    public func read(_ range: ByteRange, fetch: (ByteRange) throws -> [UInt8]) rethrows -> [UInt8] {
        if range.end <= UInt64(head.count) {
            return Array(head[Int(range.offset)..<Int(range.end)])
        }
        guard !tail.isEmpty, range.end > tailOffset else { return try fetch(range) }
        if range.offset >= tailOffset {
            return Array(tail[Int(range.offset - tailOffset)..<Int(range.end - tailOffset)])
        }
        var bytes = try fetch(ByteRange(offset: range.offset, length: Int(tailOffset - range.offset)))
        bytes.append(contentsOf: tail[0..<Int(range.end - tailOffset)])
        return bytes
    }
}

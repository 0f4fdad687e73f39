/// The compressed inode and directory tables as fetched at open, decoded a metadata block at a
/// time on demand: each block is decompressed once into a bounded cache keyed by its offset, so
/// a walk decodes every block once and memory stays bounded however large the image is.
final class MetadataTables: Sendable {
    /// A decompressed metadata block and where the next one starts.
    struct Block: Sendable {
        var bytes: [UInt8]
        var next: UInt64
    }

    /// Squashfs metadata blocks hold at most this many bytes once decompressed.
    static let blockCapacity = 8192

    let imageName: String
    let window: MetadataWindow
    /// The metadata region: from the inode table to the end of the image's tables.
    let start: UInt64
    let end: UInt64
    private let decompressors: DecompressorPool
    private let blocks: BoundedCache<Block>
    let statistics: ReaderStatistics

    init(
        imageName: String, window: MetadataWindow, start: UInt64, end: UInt64, decompressors: DecompressorPool,
        cacheBytes: Int, statistics: ReaderStatistics
    ) {
        self.imageName = imageName
        self.window = window
        self.start = start
        self.end = end
        self.decompressors = decompressors
        self.blocks = BoundedCache(capacity: cacheBytes)
        self.statistics = statistics
    }

    func corrupt(_ reason: String) -> ImageError { .corrupt(image: imageName, reason: reason) }

    /// The decompressed metadata block stored at image offset `offset`.
    func block(at offset: UInt64) throws -> Block {
        try blocks.value(offset) {
            let block = try decode(at: offset)
            return (block, block.bytes.count + 64)
        }
    }

    private func decode(at offset: UInt64) throws -> Block {
        guard offset >= start, offset + 2 <= end, let header = window.kept(offset: offset, length: 2) else {
            throw corrupt("metadata block at \(offset) lies outside the metadata tables")
        }
        let word = UInt16(header[header.startIndex]) | UInt16(header[header.startIndex + 1]) << 8
        let size = Int(word & 0x7fff)
        let compressed = word & 0x8000 == 0
        guard size > 0, size <= Self.blockCapacity, offset + 2 + UInt64(size) <= end,
            let payload = window.kept(offset: offset + 2, length: size)
        else {
            throw corrupt("metadata block at \(offset) claims \(size) bytes")
        }
        statistics.metadataBlocksDecoded.add(1, ordering: .relaxed)
        let next = offset + 2 + UInt64(size)
        guard compressed else { return Block(bytes: Array(payload), next: next) }
        let bytes = try decompressors.withDecompressor { decompressor in
            payload.withUnsafeBytes { decompressor.decompress($0, capacity: Self.blockCapacity) }
        }
        guard let bytes else { throw corrupt("metadata block at \(offset) does not decompress") }
        return Block(bytes: bytes, next: next)
    }

    /// A reader positioned `offset` bytes into the decompressed block stored at `block`.
    func cursor(block: UInt64, offset: Int) throws -> MetadataCursor {
        let first = try self.block(at: block)
        guard offset < first.bytes.count else {
            throw corrupt("offset \(offset) lies past the \(first.bytes.count) bytes of metadata block \(block)")
        }
        return MetadataCursor(tables: self, block: first, offset: offset)
    }
}

/// Reads little-endian fields from the decompressed metadata stream, continuing into the next
/// block when a field runs past the end of one (inodes and directory headers may straddle).
struct MetadataCursor {
    let tables: MetadataTables
    private(set) var block: MetadataTables.Block
    private(set) var offset: Int
    /// Bytes read so far, for bounds such as a directory's stated size.
    private(set) var consumed = 0

    init(tables: MetadataTables, block: MetadataTables.Block, offset: Int) {
        self.tables = tables
        self.block = block
        self.offset = offset
    }

    private mutating func advanceBlock() throws {
        block = try tables.block(at: block.next)
        offset = 0
    }

    /// Calls `body` with the next `count` bytes, contiguous; copies only when they straddle blocks.
    mutating func withBytes<T>(_ count: Int, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        if offset == block.bytes.count { try advanceBlock() }
        if offset + count <= block.bytes.count {
            let start = offset
            offset += count
            consumed += count
            return try block.bytes.withUnsafeBytes {
                try body(UnsafeRawBufferPointer(rebasing: $0[start..<start + count]))
            }
        }
        let joined = try bytes(count)
        return try joined.withUnsafeBytes(body)
    }

    /// The next `count` bytes as an array.
    mutating func bytes(_ count: Int) throws -> [UInt8] {
        var result = [UInt8]()
        result.reserveCapacity(count)
        while result.count < count {
            if offset == block.bytes.count { try advanceBlock() }
            let take = min(count - result.count, block.bytes.count - offset)
            result.append(contentsOf: block.bytes[offset..<offset + take])
            offset += take
            consumed += take
        }
        return result
    }

    mutating func skip(_ count: Int) throws {
        var left = count
        while left > 0 {
            if offset == block.bytes.count { try advanceBlock() }
            let take = min(left, block.bytes.count - offset)
            offset += take
            consumed += take
            left -= take
        }
    }

    mutating func integer<T: FixedWidthInteger>(_: T.Type = T.self) throws -> T {
        try withBytes(MemoryLayout<T>.size) { T(littleEndian: $0.loadUnaligned(as: T.self)) }
    }

    mutating func u16() throws -> UInt16 { try integer() }
    mutating func u32() throws -> UInt32 { try integer() }
    mutating func u64() throws -> UInt64 { try integer() }
}

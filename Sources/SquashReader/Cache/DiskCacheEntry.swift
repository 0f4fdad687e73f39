import CXXHash

/// The on-disk form of a run of cached blocks (a pack): a header, a table of the blocks, then
/// their bytes. Each block of the run gets its own name in the cache directory, a hard link to
/// the one pack, so a streamed 8 MiB run costs one inode instead of 64: on ext4, allocating
/// inodes next to recently deleted ones was a third of a fast reader's CPU.
///
/// Layout (little-endian): magic `SQBC`, version (UInt32), block count (UInt32); then per block
/// its offset in the image (UInt64), length (UInt64), position of its bytes in this file (UInt64)
/// and a 128-bit XXH3 digest of the bytes seeded with a hash of the namespace key, the offset
/// and the length; then the bytes. The seed covers the key and offset so that a file copied or
/// linked into the wrong place is rejected, not served as another block's bytes. XXH3, not
/// SHA-256: the digest guards against damage, not an adversary with write access to the cache,
/// and SHA-256 of every fetched byte was a quarter of the daemon's CPU while streaming.
struct DiskCacheEntry {
    static let magic: [UInt8] = Array("SQBC".utf8)
    static let version: UInt32 = 3
    static let headerSize = 12
    static let tableEntrySize = 40
    /// More blocks than any run the fetcher merges (8 MiB of 4 KiB blocks is 2048).
    static let maxBlocks = 4096

    /// The header and table for `blocks`: the file is this followed by the payloads in order,
    /// which a writer can send from where they are.
    static func head(blocks: [(offset: UInt64, bytes: ArraySlice<UInt8>)], namespaceKey: [UInt8]) -> [UInt8] {
        let tableEnd = headerSize + blocks.count * tableEntrySize
        var file: [UInt8] = []
        file.reserveCapacity(tableEnd)
        file += magic
        append(version, to: &file)
        append(UInt32(blocks.count), to: &file)
        var position = tableEnd
        for block in blocks {
            append(block.offset, to: &file)
            append(UInt64(block.bytes.count), to: &file)
            append(UInt64(position), to: &file)
            let digest = digest(namespaceKey: namespaceKey, offset: block.offset, payload: block.bytes)
            append(digest.high64, to: &file)
            append(digest.low64, to: &file)
            position += block.bytes.count
        }
        return file
    }

    /// The bytes of the block at `offset` of `length` if the file of `fileSize` bytes, read
    /// through `readAt(position, count)`, is a valid pack holding exactly that block; else nil.
    /// The header and a small table (the usual 64 rows of 128 KiB blocks) come in one read, then
    /// the payload in another. A large table is searched by halves a row at a time: a pack of
    /// 2,048 4 KiB blocks costs a dozen row reads, not its 80 KiB table.
    static func decode(
        fileSize: Int, offset: UInt64, length: Int, namespaceKey: [UInt8], readAt: (Int, Int) -> [UInt8]?
    ) -> [UInt8]? {
        guard fileSize >= headerSize, let prefix = readAt(0, min(fileSize, headerSize + smallTableBytes)),
            prefix[0..<4].elementsEqual(magic), read(UInt32.self, prefix, at: 4) == version
        else { return nil }
        let count = Int(read(UInt32.self, prefix, at: 8))
        let tableEnd = headerSize + count * tableEntrySize
        guard count > 0, count <= maxBlocks, tableEnd <= fileSize else { return nil }
        // Row `index`: the bytes holding it and where in them it starts.
        func row(_ index: Int) -> (bytes: [UInt8], at: Int)? {
            let start = headerSize + index * tableEntrySize
            if tableEnd <= prefix.count { return (prefix, start) }
            return readAt(start, tableEntrySize).map { ($0, 0) }
        }
        var low = 0
        var high = count - 1
        while low <= high {
            let middle = (low + high) / 2
            guard let (entry, at) = row(middle) else { return nil }
            let found = read(UInt64.self, entry, at: at)
            if found < offset {
                low = middle + 1
            } else if found > offset {
                high = middle - 1
            } else {
                let position = read(UInt64.self, entry, at: at + 16)
                guard read(UInt64.self, entry, at: at + 8) == UInt64(length), position >= UInt64(tableEnd),
                    position <= UInt64(fileSize), UInt64(length) <= UInt64(fileSize) - position,
                    let payload = length == 0 ? [] : readAt(Int(position), length)
                else { return nil }
                let digest = digest(namespaceKey: namespaceKey, offset: offset, payload: payload[...])
                let matches =
                    read(UInt64.self, entry, at: at + 24) == digest.high64
                    && read(UInt64.self, entry, at: at + 32) == digest.low64
                return matches ? payload : nil
            }
        }
        return nil
    }

    /// A table up to this size is read with the header.
    private static let smallTableBytes = 8192

    private static func digest(namespaceKey: [UInt8], offset: UInt64, payload: ArraySlice<UInt8>) -> XXH128_hash_t {
        var identity = namespaceKey
        append(offset, to: &identity)
        append(UInt64(payload.count), to: &identity)
        let seed = identity.withUnsafeBytes { XXH3_64bits($0.baseAddress, $0.count) }
        return payload.withUnsafeBytes { XXH3_128bits_withSeed($0.baseAddress, $0.count, seed) }
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    private static func read<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], at index: Int) -> T {
        var value: T = 0
        for byte in bytes[index..<index + MemoryLayout<T>.size].reversed() { value = value << 8 | T(byte) }
        return value
    }
}

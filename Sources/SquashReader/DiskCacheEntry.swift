import Crypto

/// The on-disk form of one cached block: a 56-byte header, then the block's bytes.
///
/// Layout (little-endian): magic `SQBC`, version (UInt32), block offset (UInt64), block length
/// (UInt64), SHA-256 over the namespace key, the first 24 header bytes and the payload. The digest
/// covers the key and offset so that a file copied or renamed into the wrong place is rejected,
/// not served as another block's bytes.
struct DiskCacheEntry {
    static let magic: [UInt8] = Array("SQBC".utf8)
    static let version: UInt32 = 1
    static let headerSize = 56

    /// The whole file for `payload` at `offset`, under the namespace whose key is `namespaceKey`.
    static func encode(offset: UInt64, payload: [UInt8], namespaceKey: [UInt8]) -> [UInt8] {
        var file: [UInt8] = []
        file.reserveCapacity(headerSize + payload.count)
        file += magic
        append(version, to: &file)
        append(offset, to: &file)
        append(UInt64(payload.count), to: &file)
        file += digest(namespaceKey: namespaceKey, header: file, payload: payload[...])
        file += payload
        return file
    }

    /// The payload if `file` is a valid entry for exactly this block, else nil.
    static func decode(_ file: [UInt8], offset: UInt64, length: Int, namespaceKey: [UInt8]) -> [UInt8]? {
        guard file.count == headerSize + length, Array(file[0..<4]) == magic,
            read(UInt32.self, file, at: 4) == version, read(UInt64.self, file, at: 8) == offset,
            read(UInt64.self, file, at: 16) == UInt64(length)
        else { return nil }
        let payload = file[headerSize...]
        let expected = digest(namespaceKey: namespaceKey, header: Array(file[0..<24]), payload: payload)
        guard expected.elementsEqual(file[24..<headerSize]) else { return nil }
        return Array(payload)
    }

    private static func digest(namespaceKey: [UInt8], header: [UInt8], payload: ArraySlice<UInt8>) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: namespaceKey)
        hasher.update(data: header)
        payload.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return Array(hasher.finalize())
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

import Crypto

/// The stored form: a 24-byte header, then one 48-byte record per entry in offset order, all
/// little-endian. Header: magic `SQBDIGST`, format version (u32), record size (u32), entry count
/// (u64). Record: offset (u64), length (u32), kind (u8), three zero bytes, SHA-256 (32 bytes).
/// A reader checks the whole encoding against the SHA-256 recorded in meta.json before decoding.
extension BlockDigestTable {
    static let magic = Array("SQBDIGST".utf8)
    static let formatVersion: UInt32 = 1
    static let headerSize = 24
    static let recordSize = 48

    /// The table as stored beside the image.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.headerSize + count * Self.recordSize)
        bytes += Self.magic
        append(Self.formatVersion, to: &bytes)
        append(UInt32(Self.recordSize), to: &bytes)
        append(UInt64(count), to: &bytes)
        for index in 0..<count {
            let entry = entry(atIndex: index)
            append(entry.offset, to: &bytes)
            append(entry.length, to: &bytes)
            bytes += [entry.kind.rawValue, 0, 0, 0]
            bytes += entry.digest
        }
        return bytes
    }

    /// SHA-256 of `encoded()` as lowercase hex: what meta.json records to anchor the table.
    public func encodedDigest() -> String {
        Self.hex(SHA256.hash(data: encoded()))
    }

    /// Reads a stored table.
    public init(decoding bytes: [UInt8]) throws(BlockDigestTableError) {
        guard bytes.count >= Self.headerSize, Array(bytes[0..<8]) == Self.magic else {
            throw .unsupported("no SQBDIGST header")
        }
        let version: UInt32 = Self.read(bytes, at: 8)
        guard version == Self.formatVersion else { throw .unsupported("format version \(version)") }
        let recordSize: UInt32 = Self.read(bytes, at: 12)
        guard recordSize == UInt32(Self.recordSize) else { throw .malformed("record size \(recordSize)") }
        let count: UInt64 = Self.read(bytes, at: 16)
        guard count <= UInt64((bytes.count - Self.headerSize) / Self.recordSize),
            bytes.count == Self.headerSize + Int(count) * Self.recordSize
        else {
            throw .malformed("\(bytes.count) bytes do not hold \(count) records")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            let at = Self.headerSize + index * Self.recordSize
            guard let kind = Kind(rawValue: bytes[at + 12]) else {
                throw .malformed("record \(index) has unknown kind \(bytes[at + 12])")
            }
            entries.append(
                Entry(
                    offset: Self.read(bytes, at: at), length: Self.read(bytes, at: at + 8), kind: kind,
                    digest: Array(bytes[(at + 16)..<(at + 48)])))
            if index > 0 && entries[index].offset < entries[index - 1].end {
                throw .malformed("records out of order at \(index)")
            }
        }
        try self.init(entries: entries)
    }

    /// Lowercase hex of a digest.
    public static func hex(_ digest: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var characters: [UInt8] = []
        for byte in digest {
            characters.append(digits[Int(byte >> 4)])
            characters.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: characters, as: UTF8.self)
    }

    private func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    private static func read<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int) -> T {
        var value: T = 0
        for index in (0..<MemoryLayout<T>.size).reversed() {
            value = value << 8 | T(bytes[offset + index])
        }
        return value
    }
}

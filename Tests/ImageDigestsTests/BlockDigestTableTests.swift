import Crypto
import Testing

@testable import ImageDigests

@Suite("block digest table")
struct BlockDigestTableTests {
    static func entry(_ offset: UInt64, _ bytes: [UInt8], _ kind: BlockDigestTable.Kind = .dataBlock)
        -> BlockDigestTable.Entry
    {
        bytes.withUnsafeBytes { BlockDigestTable.Entry(offset: offset, kind: kind, bytes: $0) }
    }

    static let blockA = [UInt8](repeating: 7, count: 4096)
    static let blockB = Array((0..<3000).map { UInt8($0 & 0xFF) })

    static func sample() throws -> BlockDigestTable {
        try BlockDigestTable(entries: [
            entry(9000, [1, 2, 3], .metadata), entry(96, blockA), entry(0, [9], .superblock),
            entry(4192, blockB, .fragmentBlock),
        ])
    }

    @Test("checks the bytes stored at an offset: verified, mismatch, or not a block of the table")
    func check() throws {
        let table = try Self.sample()
        #expect(table.check(Self.blockA[...], at: 96) == .verified)
        #expect(table.check(Self.blockB[...], at: 4192) == .verified)
        var damaged = Self.blockA
        damaged[100] ^= 0x01
        #expect(table.check(damaged[...], at: 96) == .mismatch)
        #expect(table.check(Self.blockA[...], at: 97) == .notInTable)
        #expect(table.check(Self.blockA[..<4000], at: 96) == .notInTable)
    }

    @Test("encodes and decodes to the same table, in offset order")
    func roundTrip() throws {
        let table = try Self.sample()
        let bytes = table.encoded()
        #expect(bytes.count == 24 + 4 * 48)
        let decoded = try BlockDigestTable(decoding: bytes)
        #expect(decoded == table)
        #expect(decoded.entries.map(\.offset) == [0, 96, 4192, 9000])
        #expect(decoded.first(.metadata)?.offset == 9000)
        #expect(table.encodedDigest() == BlockDigestTable.hex(SHA256.hash(data: bytes)))
    }

    @Test("a damaged or foreign encoding is refused, never half read")
    func damagedEncoding() throws {
        let bytes = try Self.sample().encoded()
        #expect(throws: BlockDigestTableError.self) { try BlockDigestTable(decoding: Array(bytes.dropLast())) }
        #expect(throws: BlockDigestTableError.self) { try BlockDigestTable(decoding: Array("not a table".utf8)) }
        var badKind = bytes
        badKind[24 + 12] = 99
        #expect(throws: BlockDigestTableError.self) { try BlockDigestTable(decoding: badKind) }
        var badCount = bytes
        badCount[16] = 200
        #expect(throws: BlockDigestTableError.self) { try BlockDigestTable(decoding: badCount) }
        var newer = bytes
        newer[8] = 2
        #expect(throws: BlockDigestTableError.unsupported("format version 2")) {
            try BlockDigestTable(decoding: newer)
        }
    }

    @Test("overlapping entries are refused")
    func overlap() {
        #expect(throws: BlockDigestTableError.self) {
            try BlockDigestTable(entries: [Self.entry(0, Self.blockA), Self.entry(4000, Self.blockB)])
        }
    }

    @Test("finds the entries a damaged range touches")
    func overlapping() throws {
        let table = try Self.sample()
        #expect(table.entries(overlapping: 100, length: 5000).map(\.offset) == [96, 4192])
        #expect(table.entries(overlapping: 4192 + 3000, length: 100).isEmpty)
        #expect(table.entries(overlapping: 0, length: 1).map(\.kind) == [.superblock])
    }

    @Test("the recorder collects entries from many threads")
    func recorder() async throws {
        let recorder = BlockDigestRecorder()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<64 {
                group.addTask {
                    Self.blockA.withUnsafeBytes { recorder.record(.dataBlock, offset: UInt64(index) * 4096, bytes: $0) }
                }
            }
        }
        let table = try recorder.table()
        #expect(table.count == 64)
        #expect(table.check(Self.blockA[...], at: 59 * 4096) == .verified)
    }

    @Test("contiguousEnd: where entries tiling the image from 0 end; nil with a gap")
    func contiguousEnd() throws {
        func entry(_ offset: UInt64, _ length: Int) -> BlockDigestTable.Entry {
            BlockDigestTable.Entry(
                offset: offset, length: UInt32(length), kind: .dataBlock, digest: [UInt8](repeating: 0, count: 32))
        }
        #expect(try BlockDigestTable(entries: [entry(96, 10), entry(0, 96), entry(106, 4)]).contiguousEnd == 110)
        #expect(try BlockDigestTable(entries: [entry(0, 96), entry(97, 10)]).contiguousEnd == nil)
        #expect(try BlockDigestTable(entries: [entry(1, 96)]).contiguousEnd == nil)
        #expect(try BlockDigestTable(entries: []).contiguousEnd == nil)
    }
}

import Crypto
import Testing

@testable import ImageDigests

@Suite("block digest recorder: digests parked by compression workers, taken by the storing thread")
struct BlockDigestRecorderTests {
    static let block = [UInt8](repeating: 3, count: 1000)
    static let other = [UInt8](repeating: 4, count: 1000)

    @Test("a digest a worker parked for a buffer is taken as it is, not computed again")
    func takesParked() throws {
        let recorder = BlockDigestRecorder()
        try Self.block.withUnsafeBytes { stored in
            let address = try #require(stored.baseAddress)
            // Parked under this buffer's address, but of other bytes: only a taken digest is this one.
            Self.other.withUnsafeBytes { recorder.compressed(buffer: address, stored: $0) }
            recorder.record(.dataBlock, offset: 96, bytes: stored)
        }
        let table = try recorder.table()
        #expect(table.entries.map(\.digest) == [Array(SHA256.hash(data: Self.other))])
        #expect(recorder.hashedInLine == 0)
    }

    @Test("a block no worker reported, or reported with another length, is hashed where it is stored")
    func hashesTheRest() throws {
        let recorder = BlockDigestRecorder()
        Self.block.withUnsafeBytes { recorder.record(.dataBlock, offset: 96, bytes: $0) }
        try Self.block.withUnsafeBytes { stored in
            let address = try #require(stored.baseAddress)
            Self.other.withUnsafeBytes {
                recorder.compressed(buffer: address, stored: UnsafeRawBufferPointer(rebasing: $0[..<500]))
            }
            recorder.record(.fragmentBlock, offset: 2000, bytes: stored)
        }
        let table = try recorder.table()
        let expected = Array(SHA256.hash(data: Self.block))
        #expect(table.entries.map(\.digest) == [expected, expected])
        #expect(table.entries.map(\.kind) == [.dataBlock, .fragmentBlock])
        #expect(recorder.hashedInLine == 2)
    }
}

import Crypto
import Foundation
import ImageDigests
import SquashWriter
import TestSupport
import Testing

/// The block digests a build records, checked against the image file itself.
@Suite struct BlockDigestTests {
    static func superblockField(_ image: [UInt8], at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(image[offset + $1]) << (8 * UInt64($1)) }
    }

    @Test(
        "every byte of the image up to bytes_used is covered once, and each digest is of the bytes stored there",
        arguments: [CompressorKind.zstd, .lz4, .xz])
    func digestsTileTheImage(compressor: CompressorKind) throws {
        let source = try Fixtures.standardSource()
        let work = try TemporaryDirectory("writer-digests")
        defer { work.remove() }
        let path = work.child("image.sqfs")
        let result = try Fixtures.build(source, to: path) { $0.compressor = compressor }
        let table = try #require(result.blockDigests)
        let image = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let bytesUsed = Self.superblockField(image, at: 40)
        let inodeTableStart = Self.superblockField(image, at: 64)

        var next: UInt64 = 0
        for entry in table.entries {
            #expect(entry.offset == next, "gap or overlap before \(entry.offset) (\(entry.kind))")
            let bytes = image[Int(entry.offset)..<Int(entry.end)]
            #expect(
                Array(SHA256.hash(data: Array(bytes))) == entry.digest, "digest of \(entry.kind) at \(entry.offset)")
            next = entry.end
        }
        #expect(next == bytesUsed)
        #expect(table.first(.metadata)?.offset == inodeTableStart)
        #expect(table.first(.metadata)?.end == bytesUsed)
        #expect(table.first(.superblock)?.offset == 0)
        #expect(table.entries.contains { $0.kind == .fragmentBlock })
        #expect(table.entries.filter { $0.kind == .dataBlock }.count > 50)
    }

    @Test("a flipped byte fails exactly the block that holds it")
    func flippedByte() throws {
        let source = try Fixtures.standardSource()
        let work = try TemporaryDirectory("writer-digests-flip")
        defer { work.remove() }
        let path = work.child("image.sqfs")
        let table = try #require(try Fixtures.build(source, to: path).blockDigests)
        var image = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let victim = try #require(table.entries.filter { $0.kind == .dataBlock }.dropFirst(50).first)
        image[Int(victim.offset) + Int(victim.length) / 2] ^= 0x40
        let failing = table.entries.filter {
            table.check(image[Int($0.offset)..<Int($0.end)], at: $0.offset) != .verified
        }
        #expect(failing == [victim])
    }

    @Test(
        "the compression workers hash the blocks: none is left for the storing thread, and the digests are right",
        arguments: [1, 2], [CompressorKind.zstd, .lz4])
    func hashedOnWorkers(threads: Int, compressor: CompressorKind) throws {
        let source = try Fixtures.standardSource()
        let work = try TemporaryDirectory("writer-digests-workers")
        defer { work.remove() }
        let path = work.child("image.sqfs")
        let result = try Fixtures.build(source, to: path) {
            $0.threads = threads
            $0.compressor = compressor
        }
        let table = try #require(result.blockDigests)
        #expect(result.blocksHashedWhereStored == 0)
        let image = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let blocks = table.entries.filter { $0.kind == .dataBlock || $0.kind == .fragmentBlock }
        #expect(blocks.count > 50)
        let wrong = blocks.filter { table.check(image[Int($0.offset)..<Int($0.end)], at: $0.offset) != .verified }
        #expect(wrong == [])
    }

    @Test("recording digests can be turned off, and does not change the image")
    func optional() throws {
        let source = try Fixtures.standardSource()
        let work = try TemporaryDirectory("writer-digests-off")
        defer { work.remove() }
        let with = try Fixtures.build(source, to: work.child("with.sqfs"))
        let without = try Fixtures.build(source, to: work.child("without.sqfs")) { $0.blockDigests = false }
        #expect(without.blockDigests == nil)
        #expect(with.sha256Hex == without.sha256Hex)
    }
}

import BackupTestSupport
import Foundation
import ImageDigests
import SquashReader
import Storage
import TestSupport
import Testing

@testable import SQBackup

/// Compressed blocks are decompressed while their digests are checked on another core: a damaged
/// one must still fail its reads, count once as corrupt, and stay out of the cache.
@Suite("verified reads of compressed blocks")
struct VerifiedCompressedReadTests {
    @Test("a flipped byte in a compressed block fails the reads that need it; the blocks around it read")
    func damagedCompressedBlock() throws {
        let work = try TemporaryDirectory("verify-compressed")
        defer { work.remove() }
        let source = work.child("tree")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        var text = [UInt8]()
        while text.count < 3 << 20 { text += Array("line \(text.count) of compressible text\n".utf8) }
        try Data(text).write(to: URL(fileURLWithPath: source + "/text.txt"))
        let fixture = try CatalogStoreKind.local.make()
        defer { fixture.cleanup() }
        let backup = try fixture.catalog.createBackup(dir: source)
        let meta = try fixture.catalog.show(backup.id)
        let digests = try #require(try fixture.catalog.blockDigests(of: meta))
        let blocks = digests.entries.filter { $0.kind == .dataBlock }
        #expect(blocks.count == 24)
        let victimIndex = 10
        let victim = blocks[victimIndex]
        #expect(victim.length < 131_072, "the block is stored compressed")

        let key = BackupID.dataKey(backup.id)
        var image = try fixture.store.get(key)
        image[Int(victim.offset) + Int(victim.length) / 2] ^= 0x04
        try fixture.store.put(key, bytes: image)

        var reader = ReaderOptions()
        reader.blockDigests = digests
        let opened = try SquashImage.open(try fixture.catalog.resolve(backup.id), options: reader)
        let file = try #require(opened.resolve("text.txt"))
        let blockSize = 131_072
        let isVictim: @Sendable (any Error) -> Bool = { error in
            guard case ImageError.damagedBlock(_, let offset, let length) = error else { return false }
            return offset == victim.offset && length == Int(victim.length)
        }
        for _ in 0..<2 {  // the second time past the cache, where the damaged block must not be
            #expect { _ = try opened.read(file, offset: 0, length: text.count) } throws: { isVictim($0) }
            #expect { _ = try opened.read(file, offset: UInt64(victimIndex * blockSize + 5), length: 10) } throws: {
                isVictim($0)
            }
            let before = try opened.read(file, offset: 0, length: victimIndex * blockSize)
            #expect(before == Array(text[..<(victimIndex * blockSize)]))
            let after = try opened.read(file, offset: UInt64((victimIndex + 1) * blockSize), length: 3 * blockSize)
            #expect(after == Array(text[((victimIndex + 1) * blockSize)..<((victimIndex + 4) * blockSize)]))
        }
        #expect(opened.statistics.snapshot.corruptBlocks == 4)  // each read of the victim fetched it again
    }
}

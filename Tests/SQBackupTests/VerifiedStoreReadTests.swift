import BackupTestSupport
import Foundation
import ImageDigests
import SquashReader
import Storage
import TestSupport
import Testing

@testable import SQBackup

/// Damaged bytes on the S3 server (moto, signatures checked): restore and reads refuse them.
@Suite("verified reads from the S3 server")
struct VerifiedStoreReadTests {
    @Test("a flipped byte in a stored block fails restore and that file's reads; the rest reads")
    func damagedBlockOnS3() throws {
        let work = try TemporaryDirectory("verify-s3")
        defer { work.remove() }
        let source = try CreateFixture.incompressibleTree(in: work, megabytes: 2)
        try Data("small\n".utf8).write(to: URL(fileURLWithPath: source + "/small.txt"))
        let store = try CreateFixture.poolStore(bucket: try S3BucketPool.shared().takeBucket())
        let catalog = BackupCatalog(store: store)
        let backup = try #require(
            try BackupCreator(catalog: catalog).create(dir: source, options: BackupOptions()).backup)
        let digests = try #require(try catalog.blockDigests(of: backup))

        var image = try store.get(BackupID.dataKey(backup.id))
        let victim = try #require(digests.entries.filter { $0.kind == .dataBlock }.dropFirst(3).first)
        image[Int(victim.offset) + Int(victim.length) / 3] ^= 0x01
        try store.put(BackupID.dataKey(backup.id), bytes: image)

        var options = RestoreBackupOptions(targetDir: work.child("restored"))
        options.restore.workers = 1
        // The damaged file is left out and named, never written with wrong bytes; the rest is restored.
        let result = try catalog.restoreBackup(id: backup.id, options: options)
        #expect(result.verified && result.isPartial)
        let left = try #require(result.notRestored.first, "\(result)")
        #expect(result.notRestored.count == 1)
        #expect("\(left)".contains("offset \(victim.offset)") && "\(left)".contains("does not match the digest"))
        #expect(!FileManager.default.fileExists(atPath: work.child("restored/") + left.path))
        #expect(FileManager.default.contents(atPath: work.child("restored/small.txt")) == Data("small\n".utf8))

        var reader = ReaderOptions()
        reader.blockDigests = digests
        let opened = try SquashImage.open(try catalog.resolve(backup.id), options: reader)
        #expect(opened.isVerified)
        let small = try #require(opened.resolve("small.txt"))
        #expect(try opened.read(small, offset: 0, length: 6) == Array("small\n".utf8))
        let failures = try FileManager.default.contentsOfDirectory(atPath: source + "/d").filter { name in
            let node = opened.resolve("d/" + name)!
            return (try? opened.read(node, offset: 0, length: 1 << 20)) == nil
        }
        #expect(failures.count == 1, "\(failures)")
        #expect(opened.paths(of: opened.resolve("d/" + failures[0])!) == ["d/" + failures[0]])
    }
}

import Foundation
import RemoteStorage
import Storage
import TestSupport
import Testing

@testable import SQBackup

#if canImport(Glibc)
    import Glibc
#endif

@Suite("createBackup: images streamed into the store")
struct CreateBackupTests {
    @Test("round trip into the local store: unsquashfs sees the tree, meta.json records the image")
    func localRoundTrip() throws {
        try SquashfsTools.requireTools()
        let work = try TemporaryDirectory("create-local")
        defer { work.remove() }
        let source = try CreateFixture.standardTree(in: work)
        let store = try LocalDirectoryStore(root: work.child("store"))
        var options = BackupOptions()
        options.description = "checkpoint"
        options.metadata = ["branch": "main"]
        options.sandboxId = "sb-1"
        options.ttl = 36 * 3600
        let report = try BackupCreator(catalog: BackupCatalog(store: store)).create(dir: source, options: options)
        let backup = try #require(report.backup)
        #expect(BackupID.isValid(backup.id))
        #expect(backup.dir == source)
        #expect(backup.sandboxId == "sb-1")
        #expect(backup.expiresAt.timeIntervalSince(backup.createdAt) == 36 * 3600)
        #expect(backup.compressor == "zstd")
        #expect((backup.fileCount ?? 0) > 60)

        let image = work.child("store/backups/\(backup.id)/data.sqsh")
        #expect(try CreateFixture.sha256(of: image) == backup.sha256)
        #expect(backup.sizeBytes == UInt64(try FileManager.default.attributesOfItem(atPath: image)[.size] as! Int))
        #expect(try CreateFixture.extractedDifferences(image: image, source: source) == [])
        #expect(try BackupCatalog(store: store).list().backups.map(\.id) == [backup.id])
        #expect(try store.listMultipartUploads(prefix: "").isEmpty)
    }

    @Test("many parts on moto: equal parts, first part last, sha256 of the stored object")
    func multipartOnMoto() throws {
        try SquashfsTools.requireTools()
        let work = try TemporaryDirectory("create-multipart")
        defer { work.remove() }
        let source = try CreateFixture.incompressibleTree(in: work, megabytes: 23)
        let bucket = try S3BucketPool.shared().takeBucket()
        let proxy = try FaultProxy(upstreamPort: try S3BucketPool.shared().port)
        let store = try CreateFixture.poolStore(bucket: bucket, endpoint: proxy.endpoint)
        var options = BackupOptions()
        options.minimumPartSize = 5 << 20
        options.partsInFlight = 3
        let report = try BackupCreator(catalog: BackupCatalog(store: store)).create(dir: source, options: options)
        let backup = try #require(report.backup)

        let parts = try proxy.log().filter { $0.method == "PUT" && $0.path.contains("partNumber=") }
        #expect(parts.count == 5, "\(parts.map(\.path))")
        // Part 1 carries the superblock, so it goes up after every other part.
        #expect(
            parts.last?.path.contains("partNumber=1&") == true || parts.last?.path.hasSuffix("partNumber=1") == true)

        let image = work.child("image.sqsh")
        try CreateFixture.download(store, key: "backups/\(backup.id)/data.sqsh", to: image)
        #expect(try CreateFixture.sha256(of: image) == backup.sha256)
        #expect(try CreateFixture.extractedDifferences(image: image, source: source) == [])
        #expect(try store.listMultipartUploads(prefix: "backups/").isEmpty)
    }

    @Test("a part upload that fails leaves no object, no meta.json and no upload; the message says R2")
    func failedPartUpload() throws {
        let work = try TemporaryDirectory("create-fault")
        defer { work.remove() }
        let source = try CreateFixture.incompressibleTree(in: work, megabytes: 18)
        let pool = try S3BucketPool.shared()
        let bucket = try pool.takeBucket()
        let proxy = try FaultProxy(upstreamPort: pool.port)
        // No retries: the first failure of a part is final.
        let store = try CreateFixture.poolStore(bucket: bucket, endpoint: proxy.endpoint, attempts: 1)
        // The preflight listing and the upload's creation pass; the first part upload fails.
        try proxy.inject(["pass", "pass", "500"])
        var options = BackupOptions()
        options.minimumPartSize = 5 << 20
        let error = expectBackupError(.createFailed) {
            _ = try BackupCreator(catalog: BackupCatalog(store: store)).create(dir: source, options: options)
        }
        #expect(error?.message.contains("R2") == true, "\(String(describing: error))")
        let failed = try proxy.log().filter { $0.fault == "500" }
        #expect(failed.count == 1 && failed.first?.path.contains("partNumber=") == true, "\(failed)")
        try CreateFixture.expectNothingLeft(try CreateFixture.poolStore(bucket: bucket))
    }

    @Test("a missing directory: \"directory not found\"")
    func missingDirectory() throws {
        let work = try TemporaryDirectory("create-missing")
        defer { work.remove() }
        let store = try LocalDirectoryStore(root: work.child("store"))
        let error = expectBackupError(.createFailed) {
            _ = try BackupCatalog(store: store).createBackup(dir: work.child("nope"))
        }
        #expect(error?.message.contains("directory not found") == true)
        try CreateFixture.expectNothingLeft(store)
    }

    @Test("an unreachable store fails before the build, naming R2")
    func unreachableStore() throws {
        let work = try TemporaryDirectory("create-unreachable")
        defer { work.remove() }
        let source = try CreateFixture.incompressibleTree(in: work, megabytes: 1)
        // A port nothing listens on.
        let store = try CreateFixture.poolStore(bucket: "pool-0", endpoint: "http://127.0.0.1:9", attempts: 1)
        let error = expectBackupError(.createFailed) {
            _ = try BackupCatalog(store: store).createBackup(dir: source)
        }
        #expect(error?.message.contains("R2") == true, "\(String(describing: error))")
    }

    @Test("reproducible: two creates of one tree have the same sha256")
    func reproducible() throws {
        let work = try TemporaryDirectory("create-repro")
        defer { work.remove() }
        let source = try CreateFixture.standardTree(in: work)
        let store = try LocalDirectoryStore(root: work.child("store"))
        let catalog = BackupCatalog(store: store)
        var options = BackupOptions()
        options.threads = 2
        let first = try #require(try BackupCreator(catalog: catalog).create(dir: source, options: options).backup)
        options.threads = 1
        let second = try #require(try BackupCreator(catalog: catalog).create(dir: source, options: options).backup)
        #expect(first.id != second.id)
        #expect(first.sha256 != nil && first.sha256 == second.sha256)
        #expect(first.sizeBytes == second.sizeBytes)
    }

    @Test("part sizes: at least the minimum, and 10,000 parts cover the worst case")
    func partSizing() {
        let minimum = 8 << 20
        #expect(StoreImageSink.partSize(fileBytes: 0, files: 0, blockSize: 131_072, minimum: minimum) == minimum)
        #expect(
            StoreImageSink.partSize(fileBytes: 10 << 30, files: 1000, blockSize: 131_072, minimum: minimum) == minimum)
        for total in [UInt64(200) << 30, UInt64(1) << 40, UInt64(5) << 40] {
            let part = StoreImageSink.partSize(fileBytes: total, files: 1_000_000, blockSize: 4096, minimum: minimum)
            #expect(UInt64(part) * 10_000 > total + total / 100, "\(total): \(part)")
            #expect(part % (1 << 20) == 0)
        }
    }
}

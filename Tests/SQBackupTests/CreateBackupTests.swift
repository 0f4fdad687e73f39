import BackupTestSupport
import Crypto
import Foundation
import ImageDigests
import RemoteStorage
import Storage
import Synchronization
import TestSupport
import Testing

@testable import SQBackup

#if canImport(Glibc)
    import Glibc
#endif

@Suite("createBackup: images streamed into the store")
struct CreateBackupTests {
    @Test("round trip into the local store: written in place, unsquashfs and rdsquashfs see the tree")
    func localRoundTrip() throws {
        try SquashfsTools.requireTools()
        let work = try TemporaryDirectory("create-local")
        defer { work.remove() }
        let source = try CreateFixture.standardTree(in: work)
        let root = work.child("store")
        let store = try LocalDirectoryStore(root: root)
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
        #expect(backup.compositeSha256 == nil)

        let image = work.child("store/backups/\(backup.id)/data.sqsh")
        #expect(try CreateFixture.sha256(of: image) == backup.sha256)
        #expect(backup.sizeBytes == UInt64(try FileManager.default.attributesOfItem(atPath: image)[.size] as! Int))
        #expect(try CreateFixture.extractedDifferences(image: image, source: source) == [])
        // A directory's size is the file system's own (4096 on ext4, the entries' size in squashfs).
        func withoutDirectorySizes(_ lines: [String]) -> [String] {
            lines.map { line in
                guard line.hasPrefix("d") else { return line }
                var fields = line.split(separator: " ", maxSplits: 3).map(String.init)
                if fields.count == 4 { fields[2] = "-" }
                return fields.joined(separator: " ")
            }
        }
        let listing = withoutDirectorySizes(try UnsquashfsListing.ofImage(image))
        let tree = withoutDirectorySizes(UnsquashfsListing.ofTree(source))
        let onlyImage = Set(listing).subtracting(tree).sorted().prefix(5)
        let onlyTree = Set(tree).subtracting(listing).sorted().prefix(5)
        #expect(onlyImage.isEmpty && onlyTree.isEmpty, "unsquashfs only: \(onlyImage) tree only: \(onlyTree)")
        #expect(listing.count == tree.count)
        let extracted = work.child("rdsquashfs")
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
        try Shell.check(["rdsquashfs", "-q", "-X", "-T", "-C", "-O", "-u", "/", "-p", extracted, image])
        var comparison = TreeComparison()
        comparison.compareRoot = false
        // rdsquashfs 1.2 unpacks hard links as separate files.
        let problems = comparison.differences(expected: source, actual: extracted).filter {
            !$0.contains("nlink") && !$0.contains("hard link")
        }
        #expect(problems.isEmpty, "\(problems.prefix(10))")

        #expect(try BackupCatalog(store: store).list().backups.map(\.id) == [backup.id])
        #expect(try store.listMultipartUploads(prefix: "").isEmpty)
        // The digest table beside the image is anchored in meta.json and describes this image.
        let tableBytes = try store.get("backups/\(backup.id)/blocks.sha256")
        let record = try #require(backup.blockDigests)
        #expect(record.sha256 == BlockDigestTable.hex(SHA256.hash(data: tableBytes)))
        let table = try BlockDigestTable(decoding: tableBytes)
        #expect(table.count == record.count)
        let imageBytes = try store.get("backups/\(backup.id)/data.sqsh")
        #expect(
            table.entries.allSatisfy {
                table.check(imageBytes[Int($0.offset)..<Int($0.end)], at: $0.offset) == .verified
            })
        #expect(
            CreateFixture.filesOnDisk(root) == [
                "backups/\(backup.id)/blocks.sha256", "backups/\(backup.id)/data.sqsh",
                "backups/\(backup.id)/meta.json",
            ])
    }

    @Test("the local store gets the image as one staged file, never as part files, and nothing is listed before")
    func localStreamsIntoOneFile() throws {
        let work = try TemporaryDirectory("create-local-stream")
        defer { work.remove() }
        let source = try CreateFixture.incompressibleTree(in: work, megabytes: 24)
        let root = work.child("store")
        let store = try LocalDirectoryStore(root: root)
        let seen = Mutex<[[String]]>([])
        var options = BackupOptions()
        // Parts of 5 MiB would be cut four times over if the image went up as a multipart upload.
        options.minimumPartSize = 5 << 20
        options.threads = 1
        options.progress = { progress in
            guard progress.imageBytes > 6 << 20, !progress.finishing else { return }
            let files = CreateFixture.filesOnDisk(root)
            let listed = (try? store.listAll(prefix: "").map(\.key)) ?? ["listing failed"]
            seen.withLock { $0.append(files + listed.map { "listed:" + $0 }) }
        }
        let backup = try #require(
            try BackupCreator(catalog: BackupCatalog(store: store)).create(dir: source, options: options).backup)
        let snapshots = seen.withLock { $0 }
        #expect(!snapshots.isEmpty, "no progress during the data phase")
        for files in snapshots {
            // The upload's manifest and the one object file it is written into; nothing listed yet.
            #expect(files.count == 2, "\(files)")
            #expect(files.contains { $0.hasPrefix(".multipart/") && $0.hasSuffix("/object") }, "\(files)")
            #expect(files.contains { $0.hasPrefix(".multipart/") && $0.hasSuffix("/upload.json") }, "\(files)")
        }
        let image = root + "/backups/\(backup.id)/data.sqsh"
        #expect(try CreateFixture.sha256(of: image) == backup.sha256)
        #expect(try CreateFixture.extractedDifferences(image: image, source: source) == [])
        #expect(
            CreateFixture.filesOnDisk(root) == [
                "backups/\(backup.id)/blocks.sha256", "backups/\(backup.id)/data.sqsh",
                "backups/\(backup.id)/meta.json",
            ])
    }

    @Test("local store: cancelled mid-image, or failing after the image is in place, leaves no file behind")
    func localFailuresLeaveNothing() throws {
        let work = try TemporaryDirectory("create-local-fail")
        defer { work.remove() }
        let source = try CreateFixture.incompressibleTree(in: work, megabytes: 12)
        let root = work.child("store")
        let store = try LocalDirectoryStore(root: root)

        // As SIGINT does: the cancellation is set while the image is being written.
        var options = BackupOptions()
        options.threads = 1
        let cancellation = options.cancellation
        let stagedBytes = Mutex<Int>(0)
        options.progress = { progress in
            guard progress.imageBytes > 4 << 20, !cancellation.isCancelled else { return }
            let staged = CreateFixture.filesOnDisk(root).filter { $0.hasSuffix("/object") }
            let size = staged.first.flatMap {
                try? FileManager.default.attributesOfItem(atPath: root + "/" + $0)[.size] as? Int
            }
            stagedBytes.withLock { $0 = size ?? -1 }
            cancellation.cancel("interrupted by SIGINT")
        }
        let cancelled = expectBackupError(.interrupted) {
            _ = try BackupCreator(catalog: BackupCatalog(store: store)).create(dir: source, options: options)
        }
        #expect(cancelled?.message.contains("interrupted by SIGINT") == true, "\(String(describing: cancelled))")
        #expect(stagedBytes.withLock { $0 } > 0, "the image was not being written when cancelled")
        #expect(CreateFixture.filesOnDisk(root) == [])
        try CreateFixture.expectNothingLeft(store)

        // meta.json cannot be written (a directory stands in its way): the published image goes again.
        var failing = BackupOptions()
        failing.threads = 1
        failing.progress = { progress in
            guard progress.finishing else { return }
            for file in CreateFixture.filesOnDisk(root) where file.hasSuffix("/data.sqsh") {
                let meta = root + "/" + (file as NSString).deletingLastPathComponent + "/meta.json"
                try? FileManager.default.createDirectory(atPath: meta + "/blocker", withIntermediateDirectories: true)
            }
        }
        let metaFailed = expectBackupError(.createFailed) {
            _ = try BackupCreator(catalog: BackupCatalog(store: store)).create(dir: source, options: failing)
        }
        #expect(metaFailed?.message.contains("meta.json") == true, "\(String(describing: metaFailed))")
        #expect(CreateFixture.filesOnDisk(root) == [])
        try CreateFixture.expectNothingLeft(store)
    }

    @Test("many parts on moto: first part last, a composite SHA-256, no download, damaged parts refused and resent")
    func multipartOnMoto() throws {
        try SquashfsTools.requireTools()
        let work = try TemporaryDirectory("create-multipart")
        defer { work.remove() }
        let source = try CreateFixture.incompressibleTree(in: work, megabytes: 23)
        let bucket = try S3BucketPool.shared().takeBucket()
        let proxy = try FaultProxy(upstreamPort: try S3BucketPool.shared().port)
        let store = try CreateFixture.poolStore(bucket: bucket, endpoint: proxy.endpoint)
        // Listing and upload creation pass; the first part to arrive is damaged on its way: the server
        // must refuse it (its signed SHA-256 no longer matches) and the store must send it again.
        try proxy.inject(["pass", "pass", "corrupt-request"])
        var options = BackupOptions()
        options.minimumPartSize = 5 << 20
        options.partsInFlight = 3
        let report = try BackupCreator(catalog: BackupCatalog(store: store)).create(dir: source, options: options)
        let backup = try #require(report.backup)
        let log = try proxy.log()

        let partRequests = log.filter { $0.method == "PUT" && $0.path.contains("partNumber=") }
        let parts = Set(partRequests.map(\.path))
        #expect(parts.count == 5, "\(partRequests.map(\.path))")
        // Part 1 carries the superblock, so it goes up only at the end: after every part cut
        // before the end has gone. (The last part, cut at the end too, may race it; a resent
        // damaged part may still be on its way: compare first attempts.)
        func partNumber(_ path: String) -> Int? {
            path.split(separator: "?").last?.split(separator: "&")
                .first { $0.hasPrefix("partNumber=") }
                .flatMap { Int($0.dropFirst("partNumber=".count)) }
        }
        var firstAttempt = [Int: Int]()
        for (index, request) in partRequests.enumerated() {
            if let number = partNumber(request.path), firstAttempt[number] == nil { firstAttempt[number] = index }
        }
        let finalPart = firstAttempt.keys.max() ?? 0
        let partOne = firstAttempt[1] ?? -1
        #expect(
            firstAttempt.count == 5
                && firstAttempt.allSatisfy { $0.key == 1 || $0.key == finalPart || $0.value < partOne },
            "\(partRequests.map(\.path))")
        let damaged = log.filter { $0.fault == "corrupt-request" }
        #expect(damaged.count == 1 && damaged[0].path.contains("partNumber="), "\(damaged)")
        #expect(partRequests.filter { $0.path == damaged.first?.path }.count == 2, "the damaged part was not resent")
        // Nothing of the image was read back during the create.
        let reads = log.filter { $0.method == "GET" && $0.path.contains("data.sqsh") }
        #expect(reads.isEmpty, "\(reads)")

        #expect(backup.sha256 == nil && report.sha256 == nil)
        let composite = try #require(backup.compositeSha256)
        #expect(composite.partSize == 5 << 20 && composite.partCount == 5)
        let image = work.child("image.sqsh")
        try CreateFixture.download(store, key: "backups/\(backup.id)/data.sqsh", to: image)
        let expected = try CreateFixture.compositeSHA256(of: image, partSize: composite.partSize)
        #expect(expected.sha256 == composite.sha256 && expected.parts == composite.partCount)
        #expect(try CreateFixture.extractedDifferences(image: image, source: source) == [])
        #expect(try store.listMultipartUploads(prefix: "backups/").isEmpty)
        // meta.json as stored carries the composite digest under its documented name.
        let stored =
            try JSONSerialization.jsonObject(
                with: Data(try store.get("backups/\(backup.id)/meta.json"))) as? [String: Any]
        let field = stored?["compositeSha256"] as? [String: Any]
        #expect(field?["sha256"] as? String == composite.sha256 && field?["partCount"] as? Int == 5)
        #expect(stored?["sha256"] == nil)
    }

    @Test("a single-PUT image on moto records the exact sha256")
    func singlePutOnMoto() throws {
        let work = try TemporaryDirectory("create-single-put")
        defer { work.remove() }
        let source = try CreateFixture.standardTree(in: work)
        let bucket = try S3BucketPool.shared().takeBucket()
        let store = try CreateFixture.poolStore(bucket: bucket)
        let backup = try BackupCatalog(store: store).createBackup(dir: source)
        let meta = try BackupCatalog(store: store).show(backup.id)
        let image = work.child("image.sqsh")
        try CreateFixture.download(store, key: "backups/\(backup.id)/data.sqsh", to: image)
        #expect(meta.sizeBytes < 8 << 20)
        #expect(try CreateFixture.sha256(of: image) == meta.sha256)
        #expect(meta.compositeSha256 == nil)
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

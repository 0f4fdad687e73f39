import BackupTestSupport
import Foundation
import RemoteStorage
import SQBackup
import Storage
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Fails (never skips silently) when FUSE is missing and CI demands it.
func requireFuse() throws -> Bool {
    guard let reason = FuseCapability.missingReason else { return true }
    if FuseCapability.required {
        Issue.record("FUSE tests cannot run in CI: \(reason)")
        throw CancellationError()
    }
    print("skipping a FUSE test: \(reason)")
    return false
}

/// A small tree and its mksquashfs image.
func smallImage(in work: TemporaryDirectory) throws -> (source: String, image: String) {
    let source = work.child("src")
    try FileManager.default.createDirectory(atPath: source + "/dir", withIntermediateDirectories: true)
    try Data("hello from a backup\n".utf8).write(to: URL(fileURLWithPath: source + "/dir/hello.txt"))
    try Data(TestTree.pseudoRandomBytes(count: 300_000, seed: 3)).write(to: URL(fileURLWithPath: source + "/blob"))
    try FileManager.default.createSymbolicLink(atPath: source + "/link", withDestinationPath: "dir/hello.txt")
    let image = work.child("image.sqsh")
    try SquashfsTools.mksquashfs(source, to: image)
    return (source, image)
}

@Suite("sqbackup list/show/delete/prune/mount against a store, end to end", .serialized)
struct CatalogCommandTests {
    @Test("list, show, delete and prune through the CLI", arguments: CatalogStoreKind.allCases)
    func catalogCommands(kind: CatalogStoreKind) throws {
        let fixture = try kind.make()
        defer { fixture.cleanup() }
        let now = Date()
        let old = try fixture.seed(createdAt: now.addingTimeInterval(-3600), sandboxId: "a", metadata: ["k": "1"])
        let new = try fixture.seed(
            createdAt: now.addingTimeInterval(-60), sandboxId: "b", description: "newest", metadata: ["k": "2"])
        let expired = try fixture.seed(createdAt: now.addingTimeInterval(-9 * 86400), sandboxId: "a")

        let listed = try fixture.run(["list", "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let backups = try BackupJSON.decoder().decode([DirectoryBackup].self, from: Data(listed.stdout.utf8))
        #expect(backups.map(\.id) == [new.id, old.id, expired.id])
        #expect(backups.first?.description == "newest")

        let table = try fixture.run(["list"])
        #expect(table.status == 0)
        #expect(table.stdout.contains("ID"))
        #expect(table.stdout.contains(new.id) && table.stdout.contains("expired"))

        let filtered = try fixture.run(["list", "--sandbox", "a", "--meta", "k=1", "--json"])
        let filteredIDs = try BackupJSON.decoder().decode([DirectoryBackup].self, from: Data(filtered.stdout.utf8))
        #expect(filteredIDs.map(\.id) == [old.id])
        #expect(try fixture.run(["list", "--meta", "nokey"]).status != 0)

        let shown = try fixture.run(["show", new.id, "--json"])
        #expect(shown.status == 0, "\(shown.stderr)")
        let meta = try BackupJSON.decoder().decode(BackupMetadata.self, from: Data(shown.stdout.utf8))
        #expect(meta.id == new.id && meta.compressor == "zstd")
        let human = try fixture.run(["show", new.id])
        #expect(human.stdout.contains("newest") && human.stdout.contains("sandbox"))

        let unknown = try fixture.run(["show", BackupID.generate()])
        #expect(unknown.status == 4)
        #expect(unknown.stderr.contains("BACKUP_NOT_FOUND") && unknown.stderr.contains("not found"))
        let malformed = try fixture.run(["show", "nope"])
        #expect(malformed.status == 1)
        #expect(malformed.stderr.contains("INVALID_BACKUP_CONFIG"))

        let dry = try fixture.run(["prune", "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("would delete expired backup \(expired.id)"))
        #expect(try fixture.catalog.list().backups.count == 3)
        let pruned = try fixture.run(["prune", "--uploads-older-than", "1h"])
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(pruned.stdout.contains("deleted expired backup \(expired.id)"))
        #expect(try fixture.catalog.list().backups.map(\.id) == [new.id, old.id])

        let deleted = try fixture.run(["delete", old.id])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(try fixture.catalog.list().backups.map(\.id) == [new.id])
        let again = try fixture.run(["delete", old.id])
        #expect(again.status == 4 && again.stderr.contains("BACKUP_NOT_FOUND"))
    }

    @Test("mount ID: through the catalog, refusing expired and unknown", arguments: CatalogStoreKind.allCases)
    func mountByID(kind: CatalogStoreKind) throws {
        guard try requireFuse() else { return }
        let fixture = try kind.make()
        defer { fixture.cleanup() }
        let work = try TemporaryDirectory("mount-id")
        defer { work.remove() }
        let (source, image) = try smallImage(in: work)
        let backup = try fixture.seed(image: image)
        let mountpoint = work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)

        let mounted = try fixture.run(["mount", backup.id, mountpoint])
        #expect(mounted.status == 0, "\(mounted.stderr)")
        #expect(MountTable.isMounted(mountpoint))
        var comparison = TreeComparison()
        comparison.compareRoot = false
        #expect(comparison.differences(expected: source, actual: mountpoint).isEmpty)
        let table = MountTable.text
        #expect(table.contains("sqbackup:\(backup.id)"))
        #expect(try SQBackupBinary.run(["unmount", mountpoint]).status == 0)
        #expect(!MountTable.isMounted(mountpoint))

        // A backup written by the vendor's SDK: only its six fields in meta.json.
        let vendorID = BackupID.generate()
        let imageBytes = Array(try Data(contentsOf: URL(fileURLWithPath: image)))
        try fixture.store.put("backups/\(vendorID)/data.sqsh", bytes: imageBytes)
        try fixture.store.put(
            "backups/\(vendorID)/meta.json",
            bytes: Array(
                #"{"id":"\#(vendorID)","dir":"/workspace","name":"vendor","sizeBytes":\#(imageBytes.count),"ttl":604800,"createdAt":"\#(BackupJSON.format(Date()))"}"#
                    .utf8))
        let vendorMount = try fixture.run(["mount", vendorID, mountpoint])
        #expect(vendorMount.status == 0, "\(vendorMount.stderr)")
        #expect(comparison.differences(expected: source, actual: mountpoint).isEmpty)
        #expect(try SQBackupBinary.run(["unmount", mountpoint]).status == 0)

        let expired = try fixture.seed(image: image, createdAt: Date().addingTimeInterval(-7200), ttl: 3600)
        let refused = try fixture.run(["mount", expired.id, mountpoint])
        #expect(refused.status == 5)
        #expect(refused.stderr.contains("BACKUP_EXPIRED"), "\(refused.stderr)")
        #expect(!MountTable.isMounted(mountpoint))

        let unknown = try fixture.run(["mount", BackupID.generate(), mountpoint])
        #expect(unknown.status == 4)
        #expect(unknown.stderr.contains("BACKUP_NOT_FOUND") && unknown.stderr.contains("not found"))
        #expect(!MountTable.isMounted(mountpoint))
    }

    @Test("mount ID on S3: meta.json, then head and tail at once; `ls -lR` sends nothing")
    func mountByIDRequests() throws {
        guard try requireFuse() else { return }
        let fixture = try CatalogStoreKind.s3.make()
        defer { fixture.cleanup() }
        let work = try TemporaryDirectory("mount-id-requests")
        defer { work.remove() }
        let (_, image) = try smallImage(in: work)
        let backup = try fixture.seed(image: image)
        let mountpoint = work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        let pool = try S3BucketPool.shared()
        let proxy = try FaultProxy(upstreamPort: pool.port)
        let bucket = try #require(fixture.environment["BACKUP_BUCKET_NAME"])
        let mounted = try SQBackupBinary.run(
            ["mount", backup.id, mountpoint, "--no-disk-cache"],
            environment: pool.environment(bucket: bucket, endpoint: proxy.endpoint))
        #expect(mounted.status == 0, "\(mounted.stderr)")
        defer { _ = try? SQBackupBinary.run(["unmount", mountpoint]) }
        let mounting = try proxy.log()
        // meta.json, then the image's head (size and ETag) and tail (metadata tables) together.
        #expect(mounting.count == 3, "\(mounting.map { "\($0.method) \($0.path) \($0.range ?? "")" })")
        #expect(mounting.first?.path.hasSuffix("/meta.json") == true)
        #expect(Set(mounting.dropFirst().compactMap(\.range)) == ["bytes=0-131071", "bytes=-1048576"])
        try proxy.clear()
        _ = try Shell.check(["ls", "-lR", mountpoint])
        #expect(try proxy.log().isEmpty)
    }

    @Test(
        "mount a presigned URL (http, or https trusted through SSL_CERT_FILE); its query string never shows",
        arguments: [CatalogStoreKind.s3, .s3OverTLS])
    func mountURL(kind: CatalogStoreKind) throws {
        guard try requireFuse() else { return }
        let fixture = try kind.make()
        defer { fixture.cleanup() }
        let store = try #require(fixture.store as? S3Store)
        let work = try TemporaryDirectory("mount-url")
        defer { work.remove() }
        let (source, image) = try smallImage(in: work)
        let backup = try fixture.seed(image: image)
        let url = store.presignedURL(for: "backups/\(backup.id)/data.sqsh")
        #expect(url.contains("X-Amz-Signature="))
        let mountpoint = work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)

        // No store configuration at all: a URL needs none. Over HTTPS, the CA comes from the
        // variable the curl tool reads (AWS_CA_BUNDLE is for stores only).
        let bundle = fixture.environment["AWS_CA_BUNDLE"] ?? ""
        let environment = bundle.isEmpty ? [:] : S3Transport.caVariables(["SSL_CERT_FILE": bundle])
        #expect(url.hasPrefix(kind == .s3OverTLS ? "https://" : "http://"))
        let mounted = try SQBackupBinary.run(["mount", url, mountpoint], environment: environment)
        #expect(mounted.status == 0, "\(mounted.stderr)")
        var comparison = TreeComparison()
        comparison.compareRoot = false
        #expect(comparison.differences(expected: source, actual: mountpoint).isEmpty)
        let table = MountTable.text
        #expect(!table.contains("X-Amz-Signature"))
        // The daemon got the URL through its environment, not its (world-readable) command line.
        let commandLines = try Shell.run(["pgrep", "-a", "-f", "sqbackup mount"]).stdout
        #expect(commandLines.contains(mountpoint) && !commandLines.contains("X-Amz-Signature"), "\(commandLines)")
        #expect(try SQBackupBinary.run(["unmount", mountpoint]).status == 0)

        let missing = store.presignedURL(for: "backups/\(BackupID.generate())/data.sqsh")
        let failed = try SQBackupBinary.run(["mount", missing, mountpoint], environment: environment)
        #expect(failed.status == 4)
        #expect(failed.stderr.contains("not found"), "\(failed.stderr)")
        #expect(!failed.stderr.contains("X-Amz-Signature") && !failed.stderr.contains("X-Amz-Credential"))
    }

    @Test("configuration errors name the variable and never print the secret")
    func configurationErrors() throws {
        let pool = try S3BucketPool.shared()
        let bucket = try pool.takeBucket()
        var environment = pool.environment(bucket: bucket)
        let secret = "sEcReT-\(UUID().uuidString)"
        environment["R2_SECRET_ACCESS_KEY"] = secret
        let wrong = try SQBackupBinary.run(["list"], environment: environment)
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("INVALID_BACKUP_CONFIG"), "\(wrong.stderr)")
        #expect(wrong.stderr.contains("R2_SECRET_ACCESS_KEY"))
        #expect(!wrong.stderr.contains(secret) && !wrong.stdout.contains(secret))

        environment["R2_SECRET_ACCESS_KEY"] = ""
        let missing = try SQBackupBinary.run(["list"], environment: environment)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("INVALID_BACKUP_CONFIG") && missing.stderr.contains("R2_SECRET_ACCESS_KEY"))
        #expect(!missing.stderr.contains(pool.secretAccessKey))

        let noBucket = try SQBackupBinary.run(["list"], environment: pool.environment(bucket: "no-such-bucket"))
        #expect(noBucket.status == 1)
        #expect(noBucket.stderr.contains("INVALID_BACKUP_CONFIG") && noBucket.stderr.contains("bucket not found"))
        let work = try TemporaryDirectory("no-bucket")
        defer { work.remove() }
        let createNoBucket = try SQBackupBinary.run(
            ["create", work.path], environment: pool.environment(bucket: "no-such-bucket"))
        #expect(createNoBucket.status == 1 && createNoBucket.stderr.contains("bucket not found"))

        let badURL = try SQBackupBinary.run(["list", "--store", "ftp://x"], environment: [:])
        #expect(badURL.status == 1 && badURL.stderr.contains("INVALID_BACKUP_CONFIG"))
    }
}

import BackupTestSupport
import Foundation
import SQBackup
import Storage
import TestSupport
import Testing

@Suite("BackupCatalog against the local store and moto")
struct BackupCatalogTests {
    @Test("list: newest first, filtered, across pages", arguments: CatalogStoreKind.allCases)
    func listOrderFiltersAndPaging(kind: CatalogStoreKind) throws {
        let fixture = try kind.make()
        defer { fixture.cleanup() }
        let base = Date(timeIntervalSince1970: 1_800_000_000)
        var seeded: [BackupMetadata] = []
        for index in 0..<7 {
            seeded.append(
                try fixture.seed(
                    createdAt: base.addingTimeInterval(Double(index) * 60),
                    ttl: 100 * 365 * 86400, sandboxId: index.isMultiple(of: 2) ? "even" : "odd",
                    metadata: ["index": String(index), "session": index < 3 ? "s1" : "s2"]))
        }
        // An object under backups/ that isn't a backup, and an incomplete backup (no meta.json).
        try fixture.store.put("backups/README", bytes: Array("not a backup".utf8))
        try fixture.store.put("backups/\(BackupID.generate())/data.sqsh", bytes: [1, 2, 3])

        var catalog = fixture.catalog
        catalog.pageSize = 3  // 16 objects: six pages
        let all = try catalog.list()
        #expect(all.problems.isEmpty)
        #expect(all.backups.map(\.id) == seeded.reversed().map(\.id))

        #expect(try catalog.list(sandboxId: "odd").backups.map(\.id) == [seeded[5].id, seeded[3].id, seeded[1].id])
        #expect(try catalog.list(metadata: ["session": "s1"]).backups.count == 3)
        #expect(
            try catalog.list(sandboxId: "even", metadata: ["session": "s2"]).backups.map(\.id) == [
                seeded[6].id, seeded[4].id,
            ])
        #expect(try catalog.list(metadata: ["session": "s1", "index": "2"]).backups.map(\.id) == [seeded[2].id])
        #expect(try catalog.list(metadata: ["missing": "x"]).backups.isEmpty)
        #expect(try catalog.list(sandboxId: "nobody").backups.isEmpty)
    }

    @Test("show returns the stored record", arguments: CatalogStoreKind.allCases)
    func show(kind: CatalogStoreKind) throws {
        let fixture = try kind.make()
        defer { fixture.cleanup() }
        let seeded = try fixture.seed(description: "before refactor", metadata: ["branch": "feature/x"])
        let shown = try fixture.catalog.show(seeded.id)
        #expect(shown.id == seeded.id)
        #expect(shown.description == "before refactor")
        #expect(shown.compressor == "zstd")
        #expect(abs(shown.createdAt.timeIntervalSince(seeded.createdAt)) < 0.001)
        let backup = shown.directoryBackup
        #expect(backup.sandboxId == "sandbox-a")
        #expect(backup.metadata == ["branch": "feature/x"])
        #expect(abs(backup.expiresAt.timeIntervalSince(backup.createdAt) - 7 * 86400) < 0.001)
    }

    @Test("unknown ids are BACKUP_NOT_FOUND, malformed ids INVALID_BACKUP_CONFIG", arguments: CatalogStoreKind.allCases)
    func unknownAndMalformedIDs(kind: CatalogStoreKind) throws {
        let fixture = try kind.make()
        defer { fixture.cleanup() }
        let catalog = fixture.catalog
        let unknown = BackupID.generate()
        let missing = expectBackupError(.notFound) { _ = try catalog.show(unknown) }
        #expect(missing?.message.contains("not found") == true)
        #expect(missing?.message.contains(unknown) == true)
        expectBackupError(.notFound) { _ = try catalog.resolve(unknown) }
        expectBackupError(.notFound) { try catalog.delete([unknown]) }

        for bad in ["not-a-uuid", "../../etc/passwd", "", "0F8FAD5B-D9CB-469F-A165-70867728950E"] {
            let error = expectBackupError(.invalidConfig) { _ = try catalog.show(bad) }
            #expect(error?.message.contains("lowercase UUID") == true)
            expectBackupError(.invalidConfig) { _ = try catalog.resolve(bad) }
            expectBackupError(.invalidConfig) { try catalog.delete([bad]) }
        }
        let upper = expectBackupError(.invalidConfig) { _ = try catalog.show("0F8FAD5B-D9CB-469F-A165-70867728950E") }
        #expect(upper?.message.contains("0f8fad5b-d9cb-469f-a165-70867728950e") == true)
    }

    @Test("delete removes every object of a backup and checks all ids first", arguments: CatalogStoreKind.allCases)
    func delete(kind: CatalogStoreKind) throws {
        let fixture = try kind.make()
        defer { fixture.cleanup() }
        let catalog = fixture.catalog
        let first = try fixture.seed()
        let second = try fixture.seed()
        let third = try fixture.seed()

        // One unknown id: nothing is deleted.
        expectBackupError(.notFound) { try catalog.delete([first.id, BackupID.generate()]) }
        #expect(try catalog.list().backups.count == 3)

        try catalog.delete([first.id, third.id])
        #expect(try catalog.list().backups.map(\.id) == [second.id])
        #expect(try fixture.store.listAll(prefix: "backups/\(first.id)/").isEmpty)
        #expect(try fixture.store.listAll(prefix: "backups/\(third.id)/").isEmpty)
        expectBackupError(.notFound) { _ = try catalog.show(first.id) }
    }

    @Test("prune: dry run vs real run", arguments: CatalogStoreKind.allCases)
    func prune(kind: CatalogStoreKind) throws {
        let fixture = try kind.make()
        defer { fixture.cleanup() }
        var catalog = fixture.catalog
        let now = Date()
        let expired = try fixture.seed(createdAt: now.addingTimeInterval(-8 * 86400))
        let shortLived = try fixture.seed(createdAt: now.addingTimeInterval(-120), ttl: 60)
        let live = try fixture.seed(createdAt: now.addingTimeInterval(-86400))
        let abandonedID = BackupID.generate()
        let upload = try fixture.store.createMultipartUpload("backups/\(abandonedID)/data.sqsh")
        let leftover = "backups/\(BackupID.generate())/data.sqsh"
        try fixture.store.put(leftover, bytes: [1, 2, 3])

        // Nothing is old enough yet: only the expired backups qualify.
        let young = try catalog.prune(dryRun: true, uploadsOlderThan: 3600)
        #expect(Set(young.expired.map(\.id)) == [expired.id, shortLived.id])
        // moto reports every upload as initiated in 2010 (a hard-coded date), so only the local
        // store can show that a young upload is left alone.
        if kind == .local { #expect(young.staleUploads.isEmpty) }
        #expect(young.orphans.isEmpty)

        // Judge age from an hour ahead: the upload and the leftover are now stale.
        catalog.now = { now.addingTimeInterval(3600 + 60) }
        let dry = try catalog.prune(dryRun: true, uploadsOlderThan: 3600)
        #expect(dry.dryRun)
        #expect(Set(dry.expired.map(\.id)) == [expired.id, shortLived.id])
        #expect(dry.staleUploads.count == 1)
        #expect(dry.staleUploads.first?.contains(upload) == true)
        #expect(dry.orphans == [leftover])
        // A dry run changes nothing.
        #expect(try fixture.catalog.list().backups.count == 3)
        #expect(try fixture.store.listMultipartUploads(prefix: "backups/").count == 1)
        #expect((try? fixture.store.head(leftover)) != nil)

        let real = try catalog.prune(dryRun: false, uploadsOlderThan: 3600)
        #expect(!real.dryRun)
        #expect(try fixture.catalog.list().backups.map(\.id) == [live.id])
        #expect(try fixture.store.listMultipartUploads(prefix: "backups/").isEmpty)
        #expect((try? fixture.store.head(leftover)) == nil)
        #expect(try fixture.store.listAll(prefix: "backups/\(expired.id)/").isEmpty)
        #expect(try catalog.prune(dryRun: false, uploadsOlderThan: 3600).isEmpty)
    }

    @Test("resolve refuses expired backups and opens live ones", arguments: CatalogStoreKind.allCases)
    func resolve(kind: CatalogStoreKind) throws {
        let fixture = try kind.make()
        defer { fixture.cleanup() }
        let catalog = fixture.catalog
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let live = try fixture.seed(data: data)
        let source = try catalog.resolve(live.id)
        #expect(source.size == UInt64(data.count))
        #expect(try source.read(offset: 100, length: 50) == Array(data[100..<150]))

        let expired = try fixture.seed(createdAt: Date().addingTimeInterval(-3600), ttl: 60)
        let error = expectBackupError(.expired) { _ = try catalog.resolve(expired.id) }
        #expect(error?.message.contains("not found") == true)
        // Expired backups are still shown and listed until pruned.
        #expect(try catalog.show(expired.id).id == expired.id)

        // meta.json without its image: the image is not found.
        let id = BackupID.generate()
        try fixture.seed(id: id)
        try fixture.store.delete("backups/\(id)/data.sqsh")
        expectBackupError(.notFound) { _ = try catalog.resolve(id) }
    }

    @Test("a meta.json written by the vendor's SDK lists, shows and resolves", arguments: CatalogStoreKind.allCases)
    func vendorMeta(kind: CatalogStoreKind) throws {
        let fixture = try kind.make()
        defer { fixture.cleanup() }
        let catalog = fixture.catalog
        let withTTL = BackupID.generate()
        let created = Date().addingTimeInterval(-60)
        let createdText = BackupJSON.format(created)
        try fixture.writeMeta(
            """
            {"id":"\(withTTL)","dir":"/workspace","name":"checkpoint","sizeBytes":4096,"ttl":3600,"createdAt":"\(createdText)"}
            """, id: withTTL)
        let withoutTTL = BackupID.generate()
        try fixture.writeMeta(
            """
            {"id":"\(withoutTTL)","dir":"/app","name":"x","sizeBytes":4096,"createdAt":"2026-11-01T10:00:00Z"}
            """, id: withoutTTL)

        let meta = try catalog.show(withTTL)
        #expect(meta.dir == "/workspace")
        #expect(meta.name == "checkpoint")
        #expect(meta.sandboxId == nil)
        #expect(meta.format == nil)
        #expect(abs(meta.expiresAt.timeIntervalSince(created) - 3600) < 0.01)
        #expect(try catalog.resolve(withTTL).size == 4096)

        let noTTL = try catalog.show(withoutTTL)
        #expect(noTTL.ttl == 7 * 86400)
        #expect(noTTL.expiresAt == BackupJSON.parse("2026-11-08T10:00:00Z"))

        let listed = try catalog.list()
        #expect(listed.problems.isEmpty)
        #expect(Set(listed.backups.map(\.id)) == [withTTL, withoutTTL])
        #expect(listed.backups.first { $0.id == withTTL }?.directoryBackup.sandboxId == "")
    }

    @Test("a broken meta.json is named in the error; listing goes on without it", arguments: CatalogStoreKind.allCases)
    func brokenMeta(kind: CatalogStoreKind) throws {
        let fixture = try kind.make()
        defer { fixture.cleanup() }
        let catalog = fixture.catalog
        let good = try fixture.seed()
        let notJSON = BackupID.generate()
        try fixture.writeMeta("this is { not json", id: notJSON)
        let lacksDir = BackupID.generate()
        try fixture.writeMeta(
            #"{"id":"\#(lacksDir)","sizeBytes":1,"createdAt":"2026-11-01T10:00:00.5Z"}"#, id: lacksDir)
        let badDate = BackupID.generate()
        try fixture.writeMeta(
            #"{"id":"\#(badDate)","dir":"/w","sizeBytes":1,"createdAt":"yesterday"}"#, id: badDate)
        let otherID = BackupID.generate()
        try fixture.writeMeta(
            #"{"id":"\#(good.id)","dir":"/w","sizeBytes":1,"createdAt":"2026-11-01T10:00:00Z"}"#, id: otherID)

        let error = expectBackupError(.invalidImage) { _ = try catalog.show(notJSON) }
        #expect(error?.message.contains(notJSON) == true)
        #expect(error?.message.contains("not valid JSON") == true)
        let lacking = expectBackupError(.invalidImage) { _ = try catalog.show(lacksDir) }
        #expect(lacking?.message.contains("\"dir\"") == true)
        let date = expectBackupError(.invalidImage) { _ = try catalog.show(badDate) }
        #expect(date?.message.contains("createdAt") == true)
        expectBackupError(.invalidImage) { _ = try catalog.show(otherID) }
        expectBackupError(.invalidImage) { _ = try catalog.resolve(notJSON) }

        let listed = try catalog.list()
        #expect(listed.backups.map(\.id) == [good.id])
        #expect(listed.problems.count == 4)
        #expect(listed.problems.contains { $0.message.contains(notJSON) })
    }
}

@Suite("BackupMetadata and DirectoryBackup JSON")
struct BackupMetadataTests {
    @Test("our meta.json round-trips and carries the vendor's fields")
    func roundTrip() throws {
        var meta = BackupMetadata(
            id: BackupID.generate(), dir: "/workspace", sizeBytes: 12345,
            createdAt: Date(timeIntervalSince1970: 1_800_000_000.25), ttl: 36 * 3600, sandboxId: "sb",
            description: "d", metadata: ["k": "v"])
        meta.sha256 = String(repeating: "ab", count: 32)
        meta.fileCount = 3
        let data = try BackupJSON.encoder().encode(meta)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["id", "dir", "name", "sizeBytes", "ttl", "createdAt", "expiresAt", "sandboxId", "sha256"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["createdAt"] as? String == "2027-01-15T08:00:00.250Z")
        #expect(object["ttl"] as? Int == 36 * 3600)
        let decoded = try BackupJSON.decoder().decode(BackupMetadata.self, from: data)
        #expect(decoded == meta)
    }

    @Test("the composite SHA-256 of a multipart image round-trips; metas written before it still decode")
    func compositeDigest() throws {
        var meta = BackupMetadata(
            id: BackupID.generate(), dir: "/workspace", sizeBytes: 3 << 20, createdAt: Date(timeIntervalSince1970: 0))
        meta.compositeSha256 = .init(sha256: String(repeating: "cd", count: 32), partSize: 1 << 20, partCount: 3)
        let data = try BackupJSON.encoder().encode(meta)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let field = try #require(object["compositeSha256"] as? [String: Any])
        #expect(field["sha256"] as? String == String(repeating: "cd", count: 32))
        #expect(field["partSize"] as? Int == 1 << 20 && field["partCount"] as? Int == 3)
        #expect(object["sha256"] == nil)
        #expect(try BackupJSON.decoder().decode(BackupMetadata.self, from: data) == meta)

        // The layout of format 1 before the composite digest existed.
        let old = """
            {"id":"0f8fad5b-d9cb-469f-a165-70867728950e","dir":"/w","name":"w","sizeBytes":4096,"ttl":604800,
            "createdAt":"2026-11-01T00:00:00.000Z","expiresAt":"2026-11-08T00:00:00.000Z","format":1,
            "sha256":"\(String(repeating: "ab", count: 32))","compressor":"zstd","blockSize":131072}
            """
        let decoded = try BackupJSON.decoder().decode(BackupMetadata.self, from: Data(old.utf8))
        #expect(decoded.sha256 == String(repeating: "ab", count: 32) && decoded.compositeSha256 == nil)
    }

    @Test("ids: lowercase UUIDs only")
    func ids() {
        #expect(BackupID.isValid(BackupID.generate()))
        #expect(!BackupID.isValid("0F8FAD5B-D9CB-469F-A165-70867728950E"))
        #expect(!BackupID.isValid("0f8fad5b-d9cb-469f-a165-70867728950"))
        #expect(!BackupID.isValid("0f8fad5bxd9cb-469f-a165-70867728950e"))
        #expect(!BackupID.isValid("0f8fad5b-d9cb-469f-a165-70867728950g"))
    }

    @Test("image references: URLs, ids and paths")
    func references() {
        #expect(ImageReference("https://h/x.sqsh?X-Amz-Signature=abc") == .url("https://h/x.sqsh?X-Amz-Signature=abc"))
        #expect("\(ImageReference("https://h/x.sqsh?X-Amz-Signature=abc"))" == "https://h/x.sqsh")
        let id = BackupID.generate()
        #expect(ImageReference(id) == .backup(id: id))
        #expect(ImageReference(id.uppercased()) == .backup(id: id.uppercased()))
        #expect(ImageReference("image.sqsh").absolute(from: "/tmp") == .file(path: "/tmp/image.sqsh"))
    }
}

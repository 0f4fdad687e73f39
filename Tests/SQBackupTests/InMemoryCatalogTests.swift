import BackupTestSupport
import Foundation
import Storage
import TestSupport
import Testing

@testable import SQBackup

/// A catalog fixture over a fresh in-memory store.
private func memoryFixture(minimumPartSize: Int = 5 << 20) -> (CatalogFixture, InMemoryObjectStore) {
    let store = InMemoryObjectStore(minimumPartSize: minimumPartSize)
    return (CatalogFixture(store: store, storeArguments: [], environment: [:], cleanup: {}), store)
}

@Suite("BackupCatalog against the in-memory store")
struct InMemoryCatalogTests {
    @Test("list: newest first across pages, sandbox and metadata filters")
    func listAndFilters() throws {
        let (fixture, store) = memoryFixture()
        let base = Date(timeIntervalSince1970: 1_800_000_000)
        var seeded: [BackupMetadata] = []
        for index in 0..<5 {
            seeded.append(
                try fixture.seed(
                    createdAt: base.addingTimeInterval(Double(index) * 60), ttl: 100 * 365 * 86400,
                    sandboxId: index.isMultiple(of: 2) ? "even" : "odd", metadata: ["session": index < 2 ? "s1" : "s2"])
            )
        }
        try store.put("backups/README", bytes: Array("not a backup".utf8))
        var catalog = fixture.catalog
        catalog.pageSize = 4  // 11 objects: three pages

        let before = store.script.requests(.list).count
        let all = try catalog.list()
        #expect(store.script.requests(.list).count - before == 3)
        #expect(all.problems.isEmpty)
        #expect(all.backups.map(\.id) == seeded.reversed().map(\.id))
        #expect(try catalog.list(sandboxId: "odd").backups.map(\.id) == [seeded[3].id, seeded[1].id])
        #expect(try catalog.list(metadata: ["session": "s1"]).backups.map(\.id) == [seeded[1].id, seeded[0].id])
        #expect(
            try catalog.list(sandboxId: "even", metadata: ["session": "s2"]).backups.map(\.id) == [
                seeded[4].id, seeded[2].id,
            ])
        #expect(try catalog.list(sandboxId: "nobody").backups.isEmpty)
    }

    @Test("a meta.json deleted while listing is skipped; a listing of no bucket is a configuration error")
    func listingRaces() throws {
        let (fixture, store) = memoryFixture()
        let kept = try fixture.seed()
        let vanishing = try fixture.seed()
        store.script.schedule(.fail(.notFound(object: BackupID.metaKey(vanishing.id))), times: 1) {
            $0.operation == .get && $0.key == BackupID.metaKey(vanishing.id)
        }
        let listed = try fixture.catalog.list()
        #expect(listed.backups.map(\.id) == [kept.id])
        #expect(listed.problems.isEmpty)

        store.script.schedule(.fail(.notFound(object: "bucket")), times: 1) { $0.operation == .list }
        let error = expectBackupError(.invalidConfig) { _ = try fixture.catalog.list() }
        #expect(error?.message.contains("bucket not found") == true)
    }

    @Test("unknown backups are BACKUP_NOT_FOUND; so is a meta.json without its image")
    func notFound() throws {
        let (fixture, store) = memoryFixture()
        let catalog = fixture.catalog
        let unknown = BackupID.generate()
        expectBackupError(.notFound) { _ = try catalog.show(unknown) }
        expectBackupError(.notFound) { _ = try catalog.resolve(unknown) }
        expectBackupError(.notFound) { try catalog.delete([unknown]) }

        let imageless = try fixture.seed()
        try store.delete(BackupID.dataKey(imageless.id))
        let error = expectBackupError(.notFound) { _ = try catalog.resolve(imageless.id) }
        #expect(error?.message.contains("data.sqsh not found") == true)
    }

    @Test("expired backups are listed and shown but not resolved; resolve pins the image's version")
    func expiry() throws {
        let (fixture, store) = memoryFixture()
        var catalog = fixture.catalog
        let now = Date(timeIntervalSince1970: 1_900_000_000)
        catalog.now = { now }
        let data = (0..<5000).map { UInt8(truncatingIfNeeded: $0) }
        let live = try fixture.seed(data: data, createdAt: now.addingTimeInterval(-30), ttl: 60)
        let expired = try fixture.seed(createdAt: now.addingTimeInterval(-61), ttl: 60)

        #expect(Set(try catalog.list().backups.map(\.id)) == [live.id, expired.id])
        #expect(try catalog.show(expired.id).id == expired.id)
        expectBackupError(.expired) { _ = try catalog.resolve(expired.id) }

        let source = try catalog.resolve(live.id)
        #expect(try source.read(offset: 10, length: 5) == Array(data[10..<15]))
        store.changeETag(of: BackupID.dataKey(live.id))
        do {
            _ = try source.read(offset: 10, length: 5)
            Issue.record("a read pinned to the replaced version succeeded")
        } catch StorageError.changed {
            // The pinned version is gone.
        }
    }

    @Test("prune removes expired backups, stale uploads and old leftovers, and nothing fresh")
    func prune() throws {
        let (fixture, store) = memoryFixture()
        var catalog = fixture.catalog
        let now = Date(timeIntervalSince1970: 1_900_000_000)
        catalog.now = { now }
        let expired = try fixture.seed(createdAt: now.addingTimeInterval(-8 * 86400))
        let live = try fixture.seed(createdAt: now.addingTimeInterval(-86400))

        store.freezeClock(at: now.addingTimeInterval(-2 * 3600))
        let staleKey = "backups/\(BackupID.generate())/data.sqsh"
        let staleUpload = try store.createMultipartUpload(staleKey)
        let oldLeftover = "backups/\(BackupID.generate())/data.sqsh"
        try store.put(oldLeftover, bytes: [1, 2, 3])
        store.freezeClock(at: now.addingTimeInterval(-60))
        let freshKey = "backups/\(BackupID.generate())/data.sqsh"
        let freshUpload = try store.createMultipartUpload(freshKey)
        let freshLeftover = "backups/\(BackupID.generate())/data.sqsh"
        try store.put(freshLeftover, bytes: [4])
        store.freezeClock(at: nil)

        let dry = try catalog.prune(dryRun: true, uploadsOlderThan: 3600)
        #expect(dry.expired.map(\.id) == [expired.id])
        #expect(dry.staleUploads == ["\(staleKey) (upload \(staleUpload))"])
        #expect(dry.orphans == [oldLeftover])
        #expect(store.script.requests(.delete).isEmpty && store.script.requests(.abortMultipartUpload).isEmpty)

        let real = try catalog.prune(dryRun: false, uploadsOlderThan: 3600)
        #expect(real.expired.map(\.id) == [expired.id])
        #expect(try catalog.list().backups.map(\.id) == [live.id])
        #expect(store.pendingUploads.map(\.uploadId) == [freshUpload])
        #expect(store.contents(of: oldLeftover) == nil)
        #expect(store.contents(of: freshLeftover) == [4])
        #expect(store.keys.allSatisfy { !$0.hasPrefix(BackupID.prefix(expired.id)) })
        #expect(try catalog.prune(dryRun: false, uploadsOlderThan: 3600).isEmpty)
    }

    @Test("an upload that completed while prune ran is not an error")
    func pruneRace() throws {
        let (fixture, store) = memoryFixture()
        var catalog = fixture.catalog
        let now = Date(timeIntervalSince1970: 1_900_000_000)
        catalog.now = { now }
        store.freezeClock(at: now.addingTimeInterval(-2 * 86400))
        _ = try store.createMultipartUpload("backups/\(BackupID.generate())/data.sqsh")
        store.freezeClock(at: nil)
        store.script.schedule(.fail(.notFound(object: "upload")), times: 1) { $0.operation == .abortMultipartUpload }
        let report = try catalog.prune(dryRun: false)
        #expect(report.staleUploads.count == 1)
        #expect(store.script.requests(.abortMultipartUpload).count == 1)
    }
}

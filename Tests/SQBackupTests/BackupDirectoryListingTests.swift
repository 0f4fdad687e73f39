import BackupTestSupport
import Foundation
import SQBackup
import Storage
import Synchronization
import TestSupport
import Testing

/// A clock the test moves by hand, for refresh intervals and expiry.
private final class TestClock: Sendable {
    private let date = Mutex(Date())
    var now: Date { date.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { date.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// A store in memory with its request log, and a listing over it refreshed every 30 s of `clock`.
private struct ListingFixture {
    let store = InMemoryObjectStore()
    let clock = TestClock()
    var fixture: CatalogFixture { CatalogFixture(store: store, storeArguments: [], environment: [:], cleanup: {}) }

    func listing(sandboxId: String? = nil, metadata: [String: String] = [:]) -> BackupDirectoryListing {
        var catalog = BackupCatalog(store: store)
        let clock = self.clock
        catalog.now = { clock.now }
        return BackupDirectoryListing(
            catalog: catalog, refreshInterval: 30, sandboxId: sandboxId, metadataFilter: metadata)
    }

    func count(_ operation: StoreRequest.Operation, key suffix: String = "") -> Int {
        store.script.requests(operation).filter { $0.key.hasSuffix(suffix) }.count
    }
}

@Suite("The listing behind mount --all: what it shows and what it costs")
struct BackupDirectoryListingTests {
    @Test("by-id names cost one store listing per refresh and no meta.json read")
    func idsCostOneListing() throws {
        let setup = ListingFixture()
        let seeded = try (0..<3).map { _ in try setup.fixture.seed() }
        let listing = setup.listing()
        let gets = setup.count(.get)

        for _ in 0..<5 { #expect(try listing.backupIDs() == seeded.map(\.id).sorted()) }
        #expect(setup.count(.list) == 1)
        #expect(setup.count(.get) == gets, "by-id/ read a meta.json: \(setup.store.script.requests(.get))")

        setup.clock.advance(31)
        #expect(try listing.backupIDs().count == 3)
        #expect(setup.count(.list) == 2)
        #expect(setup.count(.get) == gets)
    }

    @Test("dates read each meta.json once per version; a changed ETag reads it again")
    func metaReadOncePerVersion() throws {
        let setup = ListingFixture()
        let now = setup.clock.now
        let old = try setup.fixture.seed(createdAt: now.addingTimeInterval(-60))
        let new = try setup.fixture.seed(createdAt: now.addingTimeInterval(-10))
        let listing = setup.listing()
        let before = setup.count(.get, key: "/meta.json")

        #expect(try listing.backups().map(\.id) == [new.id, old.id])
        #expect(try listing.backups().map(\.id) == [new.id, old.id])
        #expect(setup.count(.get, key: "/meta.json") == before + 2)

        setup.store.changeETag(of: "backups/\(old.id)/meta.json")
        setup.clock.advance(31)
        #expect(try listing.backups().map(\.id) == [new.id, old.id])
        #expect(setup.count(.get, key: "/meta.json") == before + 3)
        #expect(setup.count(.list) == 2)
    }

    @Test("a new backup appears and a deleted one disappears at the next refresh, not before")
    func refreshShowsChanges() throws {
        let setup = ListingFixture()
        let first = try setup.fixture.seed()
        let listing = setup.listing()
        #expect(try listing.backupIDs() == [first.id])

        let second = try setup.fixture.seed()
        try setup.fixture.catalog.delete([first.id])
        #expect(try listing.backupIDs() == [first.id], "changed before the refresh interval passed")
        setup.clock.advance(31)
        #expect(try listing.backupIDs() == [second.id])
        #expect(try listing.backups().map(\.id) == [second.id])
        #expect(try listing.liveMetadata(first.id) == nil)
        #expect(try listing.liveMetadata(second.id)?.id == second.id)
    }

    @Test("an expired backup is hidden from the dated views, and from by-id once its meta.json is read")
    func expiredHidden() throws {
        let setup = ListingFixture()
        let live = try setup.fixture.seed()
        let expiring = try setup.fixture.seed(ttl: 60)
        let listing = setup.listing()
        #expect(try listing.backups().count == 2)

        setup.clock.advance(61)
        #expect(try listing.backups().map(\.id) == [live.id])
        #expect(try listing.backupIDs() == [live.id])
        #expect(try listing.liveMetadata(expiring.id) == nil)
        // Expiry is judged by the clock: no store request was needed to notice it.
        #expect(setup.count(.list) == 2)
    }

    @Test("--sandbox and --meta filters apply as in list; a broken meta.json hides only its backup")
    func filtersAndBrokenMeta() throws {
        let setup = ListingFixture()
        let wanted = try setup.fixture.seed(sandboxId: "a", metadata: ["k": "1"])
        try setup.fixture.seed(sandboxId: "a", metadata: ["k": "2"])
        try setup.fixture.seed(sandboxId: "b", metadata: ["k": "1"])
        let broken = BackupID.generate()
        try setup.fixture.writeMeta("{ not json", id: broken)

        let filtered = setup.listing(sandboxId: "a", metadata: ["k": "1"])
        #expect(try filtered.backupIDs() == [wanted.id])
        #expect(try filtered.backups().map(\.id) == [wanted.id])
        #expect(try filtered.liveMetadata(broken) == nil)
        let all = setup.listing()
        #expect(try all.backups().count == 3)
        #expect(try all.backupIDs().contains(broken) == false, "a broken meta.json, once read, hides its backup")
    }

    @Test("a listing that fails at a refresh keeps the last one until the next refresh; a first one that fails throws")
    func failedRefreshKeepsLastListing() throws {
        let setup = ListingFixture()
        let first = try setup.fixture.seed()
        let listing = setup.listing()
        #expect(try listing.backupIDs() == [first.id])
        #expect(try listing.backups().map(\.id) == [first.id])

        let second = try setup.fixture.seed()
        setup.store.script.schedule(.fail(.io(object: "backups/", reason: "store down (injected)")), times: 1) {
            $0.operation == .list
        }
        setup.clock.advance(31)
        #expect(try listing.backupIDs() == [first.id], "a failed refresh emptied or changed the listing")
        #expect(try listing.backups().map(\.id) == [first.id])
        #expect(try listing.liveMetadata(first.id)?.id == first.id)
        // The failure counts as this interval's listing: no request storm while the store is down.
        #expect(setup.count(.list) == 2)

        setup.clock.advance(31)
        #expect(try listing.backupIDs() == [first.id, second.id].sorted())
        #expect(setup.count(.list) == 3)

        let fresh = setup.listing()
        setup.store.script.schedule(.fail(.io(object: "backups/", reason: "store down (injected)")), times: 1) {
            $0.operation == .list
        }
        #expect(throws: BackupError.self) { try fresh.backupIDs() }
    }
}

import BackupTestSupport
import Foundation
import Logging
import SQBackup
import Storage
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A `mount --all` of an in-memory store, served by this test process through the kernel.
private final class BrowserMountFixture: @unchecked Sendable {
    let work: TemporaryDirectory
    let store = InMemoryObjectStore()
    let mountpoint: String
    /// backup id → the source tree it was made of.
    var sources: [String: String] = [:]
    private var mounted: StoreBrowserMount?
    private let finished = DispatchSemaphore(value: 0)

    init(backups: Int) throws {
        work = try TemporaryDirectory("browser")
        mountpoint = work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        let fixture = CatalogFixture(store: store, storeArguments: [], environment: [:], cleanup: {})
        for index in 0..<backups {
            let source = work.child("src\(index)")
            try FileManager.default.createDirectory(atPath: source + "/d", withIntermediateDirectories: true)
            try Data("backup \(index)\n".utf8).write(to: URL(fileURLWithPath: source + "/d/name.txt"))
            try Data(TestTree.pseudoRandomBytes(count: 200_000, seed: UInt64(index + 1)))
                .write(to: URL(fileURLWithPath: source + "/blob"))
            let image = work.child("image\(index).sqsh")
            try SquashfsTools.mksquashfs(source, to: image)
            sources[try fixture.seed(image: image).id] = source
        }
    }

    func mount(maxOpen: Int = 16, refresh: TimeInterval = 30) throws {
        var settings = StoreBrowserMount.Settings()
        settings.maxOpen = maxOpen
        settings.refreshSeconds = refresh
        settings.image.diskCacheEnabled = false
        let mounted = try StoreBrowserMount(
            catalog: BackupCatalog(store: store), mountpoint: mountpoint, settings: settings,
            logger: Logger(label: "test.browser"))
        self.mounted = mounted
        let finished = self.finished
        Thread.detachNewThread {
            mounted.serve {}
            finished.signal()
        }
    }

    var openIDs: [String] { mounted?.filesystem.openBackupIDs ?? [] }

    func unmount() {
        guard let mounted else { return }
        mounted.mount.unmount()
        _ = finished.wait(timeout: .now() + 20)
        self.mounted = nil
    }

    func requests(_ operation: StoreRequest.Operation) -> [StoreRequest] { store.script.requests(operation) }
}

private func fuseAvailable() throws -> Bool {
    guard let reason = FuseCapability.missingReason else { return true }
    if FuseCapability.required {
        Issue.record("FUSE tests cannot run in CI: \(reason)")
        throw CancellationError()
    }
    print("skipping a FUSE test: \(reason)")
    return false
}

@Suite("mount --all through the kernel, served in process", .serialized)
struct StoreBrowserMountTests {
    @Test("listing by-id/ again and again within one refresh is one LIST and no meta.json GET")
    func byIDCostsOneListing() throws {
        guard try fuseAvailable() else { return }
        let setup = try BrowserMountFixture(backups: 3)
        defer { setup.work.remove() }
        try setup.mount()
        defer { setup.unmount() }
        let lists = setup.requests(.list).count
        #expect(lists == 1, "the mount lists the store once to check it")

        for _ in 0..<5 {
            let names = try FileManager.default.contentsOfDirectory(atPath: setup.mountpoint + "/by-id")
            #expect(names.sorted() == setup.sources.keys.sorted())
        }
        #expect(setup.requests(.list).count == lists)
        #expect(setup.requests(.get).isEmpty, "\(setup.requests(.get))")
        #expect(setup.requests(.read).isEmpty, "no image was opened: \(setup.requests(.read))")
    }

    @Test("with max-open 1, backups read one after the other work and at most one stays open")
    func leastRecentlyUsedClosed() throws {
        guard try fuseAvailable() else { return }
        let setup = try BrowserMountFixture(backups: 2)
        defer { setup.work.remove() }
        try setup.mount(maxOpen: 1)
        defer { setup.unmount() }

        for _ in 0..<2 {
            for (id, source) in setup.sources.sorted(by: { $0.key < $1.key }) {
                let mounted = setup.mountpoint + "/by-id/" + id
                #expect(TreeComparison.contentDifference(source + "/blob", mounted + "/blob") == nil)
                #expect(try String(contentsOfFile: mounted + "/d/name.txt", encoding: .utf8).hasPrefix("backup "))
                #expect(setup.openIDs == [id])
            }
        }
    }

    @Test("an image with an open file is never closed; the surplus closes once files are released")
    func openFilePinsImage() throws {
        guard try fuseAvailable() else { return }
        let setup = try BrowserMountFixture(backups: 2)
        defer { setup.work.remove() }
        try setup.mount(maxOpen: 1)
        defer { setup.unmount() }
        let ids = setup.sources.keys.sorted()
        let (held, other) = (ids[0], ids[1])

        let fd = open(setup.mountpoint + "/by-id/\(held)/blob", O_RDONLY)
        #expect(fd >= 0)
        let otherBlob = setup.mountpoint + "/by-id/\(other)/blob"
        #expect(TreeComparison.contentDifference(setup.sources[other]! + "/blob", otherBlob) == nil)
        #expect(setup.openIDs.contains(held), "the image was closed under its open file")
        var buffer = [UInt8](repeating: 0, count: 4096)
        #expect(pread(fd, &buffer, buffer.count, 100_000) == buffer.count)
        let expected = try Data(contentsOf: URL(fileURLWithPath: setup.sources[held]! + "/blob"))
        #expect(buffer == Array(expected[100_000..<104_096]))
        // The kernel sends RELEASE after close returns: wait for the surplus image to close.
        #expect(waitUntil { setup.openIDs == [held] }, "\(setup.openIDs)")

        close(fd)
        let reopened = open(otherBlob, O_RDONLY)
        #expect(reopened >= 0)
        #expect(setup.openIDs == [other], "the least recently used, unpinned image stays open")
        close(reopened)
    }
}

private func waitUntil(seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        guard Date() < deadline else { return false }
        usleep(20_000)
    }
    return true
}

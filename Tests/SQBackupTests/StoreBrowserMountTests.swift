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

    init(backups: Int, blobSize: Int = 200_000) throws {
        work = try TemporaryDirectory("browser")
        mountpoint = work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        for _ in 0..<backups { try addBackup(blobSize: blobSize) }
    }

    var catalog: BackupCatalog { BackupCatalog(store: store) }

    /// One more backup in the store (a mount sees it at its next refresh); returns its id.
    @discardableResult
    func addBackup(blobSize: Int = 200_000) throws -> String {
        let index = sources.count
        let source = work.child("src\(index)")
        try FileManager.default.createDirectory(atPath: source + "/d", withIntermediateDirectories: true)
        try Data("backup \(index)\n".utf8).write(to: URL(fileURLWithPath: source + "/d/name.txt"))
        try Data(TestTree.pseudoRandomBytes(count: blobSize, seed: UInt64(index + 1)))
            .write(to: URL(fileURLWithPath: source + "/blob"))
        let image = work.child("image\(index).sqsh")
        try SquashfsTools.mksquashfs(source, to: image)
        let fixture = CatalogFixture(store: store, storeArguments: [], environment: [:], cleanup: {})
        let id = try fixture.seed(image: image).id
        sources[id] = source
        return id
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

@Suite("mount --all at the edges: an empty store, a backup deleted under an open file", .serialized)
struct StoreBrowserEdgeTests {
    @Test(
        "an empty store mounts without latest (absent, not dangling); latest follows the first backup and its deletion")
    func latestInEmptyStore() throws {
        guard try fuseAvailable() else { return }
        let setup = try BrowserMountFixture(backups: 0)
        defer { setup.work.remove() }
        try setup.mount(refresh: 1)
        defer { setup.unmount() }
        let latest = setup.mountpoint + "/latest"
        func rootNames() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: setup.mountpoint)) ?? []).sorted()
        }
        #expect(rootNames() == ["by-date", "by-id", "by-sandbox"])
        var info = stat()
        #expect(lstat(latest, &info) == -1 && errno == ENOENT, "latest exists in an empty store")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: setup.mountpoint + "/by-id")) ?? ["?"]).isEmpty)

        let id = try setup.addBackup()
        #expect(waitUntil { TreeComparison.readLink(latest) == "by-id/" + id }, "\(rootNames())")
        #expect(try String(contentsOfFile: latest + "/d/name.txt", encoding: .utf8) == "backup 0\n")

        try setup.catalog.delete([id])
        #expect(waitUntil { lstat(latest, &info) == -1 && errno == ENOENT }, "latest still there after its backup went")
        #expect(rootNames() == ["by-date", "by-id", "by-sandbox"])
    }

    @Test("a backup deleted while a file in it is open: reads give its bytes or EIO, and the mount keeps serving")
    func deletedUnderOpenFile() throws {
        guard try fuseAvailable() else { return }
        // Several MiB, so that a read far into the file needs a request after the deletion.
        let setup = try BrowserMountFixture(backups: 2, blobSize: 6 << 20)
        defer { setup.work.remove() }
        try setup.mount(refresh: 1)
        defer { setup.unmount() }
        let ids = setup.sources.keys.sorted()
        let (doomed, kept) = (ids[0], ids[1])
        let expected = try Data(contentsOf: URL(fileURLWithPath: setup.sources[doomed]! + "/blob"))

        let fd = open(setup.mountpoint + "/by-id/\(doomed)/blob", O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        #expect(pread(fd, &buffer, buffer.count, 0) == buffer.count)
        #expect(buffer == Array(expected[0..<4096]))

        try setup.catalog.delete([doomed])
        let deletedAt = setup.store.script.requests.count
        let offset = 5 << 20
        let count = pread(fd, &buffer, buffer.count, off_t(offset))
        let readError = errno
        if count >= 0 {
            #expect(count == buffer.count && buffer == Array(expected[offset..<offset + 4096]), "wrong bytes")
        } else {
            #expect(readError == EIO, "a read of a deleted backup failed with errno \(readError), not EIO")
        }
        let afterDeletion = setup.store.script.requests.dropFirst(deletedAt)
        #expect(
            afterDeletion.contains { $0.operation == .get && $0.key.hasSuffix("\(doomed)/data.sqsh") },
            "the read after the deletion never reached the store: the test proves nothing")

        // The rest of the mount is unharmed, and the deleted backup leaves at the next refresh.
        let other = setup.mountpoint + "/by-id/\(kept)/blob"
        #expect(TreeComparison.contentDifference(setup.sources[kept]! + "/blob", other) == nil)
        #expect(waitUntil { !FileManager.default.fileExists(atPath: setup.mountpoint + "/by-id/" + doomed) })
        #expect(MountTable.isMounted(setup.mountpoint))
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

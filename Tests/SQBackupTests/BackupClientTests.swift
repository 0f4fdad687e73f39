import BackupTestSupport
import Dispatch
import Foundation
import SQBackup
import Storage
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The async facade on a real store: the local one and moto's S3 (the store chosen from the
/// environment as the CLI chooses it), cancellation included.
@Suite("BackupClient: the async facade on the local store and on S3")
struct BackupClientTests {
    @Test(
        "create, list, restore and delete, the store resolved from selection and environment",
        arguments: [
            CatalogStoreKind.local, .s3,
        ])
    func roundTrip(kind: CatalogStoreKind) async throws {
        let fixture = try kind.make()
        defer { fixture.cleanup() }
        let work = try TemporaryDirectory("client-\(kind)")
        defer { work.remove() }
        let source = try CreateFixture.standardTree(in: work)
        let client = Self.client(fixture, work: work)
        let backup = try await client.createBackup(
            .init(dir: source, description: "client \(kind)", metadata: ["session_id": "\(kind)"]))
        #expect(try await client.listBackups(metadata: ["session_id": "\(kind)"]).map(\.id) == [backup.id])
        let result = try await client.restoreBackup(backup.id, options: .init(targetDir: work.child("restored")))
        #expect(!result.isPartial)
        #expect(TreeComparison().differences(expected: source, actual: work.child("restored")) == [])
        try await client.deleteBackup(backup.id)
        #expect(try await client.listBackups().isEmpty)
        #expect(try fixture.store.listAll(prefix: "backups/", pageSize: 1000).isEmpty)
    }

    @Test(
        "cancelling the task of a create stops it: OPERATION_INTERRUPTED, nothing left in the store",
        arguments: [
            CatalogStoreKind.local, .s3,
        ])
    func cancelCreate(kind: CatalogStoreKind) async throws {
        let fixture = try kind.make()
        defer { fixture.cleanup() }
        let work = try TemporaryDirectory("client-cancel-\(kind)")
        defer { work.remove() }
        // Three 8 MiB parts: on S3 a multipart upload is under way when the task is cancelled.
        let source = try CreateFixture.incompressibleTree(in: work, megabytes: 24)
        let client = Self.client(fixture, work: work)
        let gate = Gate()
        var options = BackupClient.CreateOptions(dir: source)
        options.progress = { progress in
            if progress.bytesRead >= 16 << 20 { gate.holdOnce() }
        }
        let task = Task { try await client.createBackup(options) }
        await gate.reached()
        task.cancel()
        gate.release()
        let error = await #expect(throws: BackupError.self) { _ = try await task.value }
        #expect(error?.code == .interrupted, "\(String(describing: error))")
        #expect(error?.message.contains("nothing was stored") == true)

        #expect(try await client.listBackups().isEmpty)
        #expect(try fixture.store.listAll(prefix: "", pageSize: 1000).map(\.key) == [])
        #expect(try fixture.store.listMultipartUploads(prefix: "").isEmpty)
        if let root = Self.localRoot(fixture) {
            // The local store stages the image in a file of its own: that must be gone too.
            let files = FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []
            let regular = files.filter { !Self.isDirectory(root + "/" + $0) }
            #expect(regular == [])
        }
    }

    @Test("cancelling the task of a restore: OPERATION_INTERRUPTED, the original directory unchanged, no new target")
    func cancelRestore() async throws {
        let work = try TemporaryDirectory("client-cancel-restore")
        defer { work.remove() }
        let script = RequestScript()
        let catalog = BackupCatalog(store: InMemoryObjectStore(script: script))
        let client = BackupClient(catalog: catalog, environment: ["SQBACKUP_STATE_DIR": work.child("state")])
        let source = try CreateFixture.incompressibleTree(in: work, megabytes: 8)
        let backup = try await client.createBackup(.init(dir: source))
        for index in 0..<8 {
            try Data("changed \(index)\n".utf8).write(to: URL(fileURLWithPath: source + "/d/f\(index)"))
        }
        try Data("extra\n".utf8).write(to: URL(fileURLWithPath: source + "/extra"))
        let before = try Self.contents(of: source)
        // Every read of the image from now on is slow, so no restore can finish before its task is cancelled.
        script.schedule(.delay(.milliseconds(300))) { $0.key.hasSuffix("/data.sqsh") }

        for target in [nil, work.child("fresh")] {
            // Cancelled the moment the third read of the image arrives (while it is held back), from
            // the store itself: a test thread polling the log can wake too late on a loaded machine.
            let running = Mutex<Task<RestoreResult, any Error>?>(nil)
            let reads = Atomic(0)
            script.schedule(.delay(.zero)) { request in
                if request.key.hasSuffix("/data.sqsh"), reads.add(1, ordering: .relaxed).newValue == 3 {
                    running.withLock { $0?.cancel() }
                }
                return false
            }
            // Set under the lock, so the store cannot look for the task before it is there.
            let task = running.withLock { running in
                let task = Task { try await client.restoreBackup(backup.id, options: .init(targetDir: target)) }
                running = task
                return task
            }
            let error = await #expect(throws: BackupError.self) { _ = try await task.value }
            #expect(error?.code == .interrupted, "\(String(describing: error))")
        }
        #expect(try Self.contents(of: source) == before)
        #expect(!FileManager.default.fileExists(atPath: work.child("fresh")))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: work.path).filter { $0.hasPrefix(".") }
        #expect(leftovers == [])
    }

    @Test("mount by id in this process: files read through the kernel, then unmounted")
    func mountInProcess() async throws {
        guard FileManager.default.fileExists(atPath: "/dev/fuse"), getuid() == 0 else {
            Issue.record("no /dev/fuse or not root: the in-process mount is not tested here (CI runs as root)")
            return
        }
        let fixture = try CatalogStoreKind.local.make()
        defer { fixture.cleanup() }
        let work = try TemporaryDirectory("client-mount")
        defer { work.remove() }
        let source = try CreateFixture.standardTree(in: work)
        let client = Self.client(fixture, work: work)
        let backup = try await client.createBackup(.init(dir: source))
        let mountpoint = work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        var options = BackupClient.MountOptions()
        options.diskCache = false
        let mounted = try await client.mount(backup.id, at: mountpoint, options: options)
        #expect(mounted.isMounted)
        #expect(mounted.unverifiedReason == nil)
        var comparison = TreeComparison()
        comparison.compareRoot = false
        let differences = comparison.differences(expected: source, actual: mountpoint)
        await mounted.unmount()
        #expect(differences == [])
        #expect(!mounted.isMounted)
        #expect(try FileManager.default.contentsOfDirectory(atPath: mountpoint) == [])
        await expectCodeAsync(.notFound) {
            _ = try await client.mount(UUID().uuidString.lowercased(), at: mountpoint)
        }
    }

    // MARK: Helpers

    /// A client of `fixture`'s store, chosen the way the CLI chooses it: `--store` for the local
    /// kind, the spec's environment variables for S3.
    static func client(_ fixture: CatalogFixture, work: TemporaryDirectory) -> BackupClient {
        var environment = fixture.environment
        environment["SQBACKUP_STATE_DIR"] = work.child("state")
        let store = fixture.storeArguments.count == 2 ? fixture.storeArguments[1] : nil
        return BackupClient(store: StoreSelection(store: store), environment: environment)
    }

    static func localRoot(_ fixture: CatalogFixture) -> String? {
        guard fixture.storeArguments.count == 2 else { return nil }
        return String(fixture.storeArguments[1].dropFirst("file://".count))
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    static func contents(of directory: String) throws -> [String: Data] {
        var contents: [String: Data] = [:]
        for case let name as String in FileManager.default.enumerator(atPath: directory)?.allObjects ?? []
        where !isDirectory(directory + "/" + name) {
            contents[name] = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))
        }
        return contents
    }
}

/// Holds the thread that reaches it once until the test lets it go, so that a task can be
/// cancelled at a known point of the work.
private final class Gate: Sendable {
    private let arrived = DispatchSemaphore(value: 0)
    private let released = DispatchSemaphore(value: 0)
    private let used = Atomic<Bool>(false)

    /// Called by the worker: the first call waits (at most a minute) for `release`.
    func holdOnce() {
        guard !used.exchange(true, ordering: .relaxed) else { return }
        arrived.signal()
        _ = released.wait(timeout: .now() + 60)
    }

    /// Waits, off the cooperative pool, until the worker holds.
    func reached() async {
        let arrived = self.arrived
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                arrived.wait()
                continuation.resume()
            }
        }
    }

    func release() { released.signal() }
}

/// Expects `body` to throw a `BackupError` with `code`.
private func expectCodeAsync(_ code: BackupError.Code, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected \(code.rawValue), but nothing was thrown")
    } catch let error as BackupError {
        #expect(error.code == code, "\(error)")
    } catch {
        Issue.record("expected a BackupError \(code.rawValue), got \(error)")
    }
}

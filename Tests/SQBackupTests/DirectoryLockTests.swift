import BackupTestSupport
import Foundation
import Storage
import Synchronization
import TestSupport
import Testing

@testable import SQBackup

#if canImport(Glibc)
    import Glibc
#endif

@Suite("One restore or create of a directory at a time", .serialized)
struct DirectoryLockTests {
    /// A backup of the standard tree in a local store, its catalog, and a state root for locks.
    private func backup(in work: TemporaryDirectory) throws -> (catalog: BackupCatalog, id: String, source: String) {
        let source = try CreateFixture.standardTree(in: work)
        let catalog = BackupCatalog(store: try LocalDirectoryStore(root: work.child("store")))
        var options = BackupOptions()
        options.stateRoot = work.child("state")
        let report = try BackupCreator(catalog: catalog).create(dir: source, options: options)
        return (catalog, try #require(report.backup?.id), source)
    }

    private func options(_ work: TemporaryDirectory, target: String?, wait: Bool = false) -> RestoreBackupOptions {
        var options = RestoreBackupOptions(targetDir: target, force: true)
        options.stateRoot = work.child("state")
        options.wait = wait
        return options
    }

    @Test("while a create holds a directory, a restore into it fails at once with BACKUP_BUSY naming both; and back")
    func busy() throws {
        let work = try TemporaryDirectory("lock-busy")
        defer { work.remove() }
        let (catalog, id, source) = try backup(in: work)
        let held = try DirectoryLock.acquire(
            directory: source, operation: "create", stateRoot: work.child("state"), wait: false, cancellation: nil)
        // Spelled differently (a trailing "/.", a symlink to it): the same directory, the same lock.
        let alias = work.child("alias")
        try FileManager.default.createSymbolicLink(atPath: alias, withDestinationPath: source)
        for target in [source + "/.", alias] {
            let error = expectBackupError(.busy) {
                _ = try catalog.restoreBackup(id: id, options: options(work, target: target))
            }
            #expect(
                error?.message.contains("\(source) is busy: a create (pid \(getpid())) of it is running") == true,
                "\(String(describing: error))")
            #expect(error?.reason == .directoryBusy(path: source, holder: "a create (pid \(getpid()))"))
        }
        held.release()

        let restoring = try DirectoryLock.acquire(
            directory: source, operation: "restore", stateRoot: work.child("state"), wait: false, cancellation: nil)
        defer { restoring.release() }
        var createOptions = BackupOptions()
        createOptions.stateRoot = work.child("state")
        let error = expectBackupError(.busy) {
            _ = try BackupCreator(catalog: catalog).create(dir: source, options: createOptions)
        }
        #expect(error?.message.contains("a restore (pid \(getpid()))") == true, "\(String(describing: error))")
    }

    @Test("with wait, a restore waits for the holder and then runs; a cancellation ends the wait")
    func waits() throws {
        let work = try TemporaryDirectory("lock-wait")
        defer { work.remove() }
        let (catalog, id, source) = try backup(in: work)
        let target = work.child("target")
        let held = try DirectoryLock.acquire(
            directory: target, operation: "restore", stateRoot: work.child("state"), wait: false, cancellation: nil)
        let outcome = Mutex<Result<RestoreResult, any Error>?>(nil)
        let waiting = options(work, target: target, wait: true)
        let thread = Thread {
            let result = Result { try catalog.restoreBackup(id: id, options: waiting) }
            outcome.withLock { $0 = result }
        }
        thread.start()
        usleep(700_000)
        #expect(outcome.withLock { $0 == nil }, "the restore did not wait")
        #expect(!FileManager.default.fileExists(atPath: target))
        held.release()
        let deadline = Date().addingTimeInterval(60)
        while outcome.withLock({ $0 == nil }) && Date() < deadline { usleep(20_000) }
        let result = try #require(outcome.withLock { $0 }).get()
        #expect(result.dir == target)
        #expect(TreeComparison().differences(expected: source, actual: target) == [])

        let again = try DirectoryLock.acquire(
            directory: target, operation: "create", stateRoot: work.child("state"), wait: false, cancellation: nil)
        defer { again.release() }
        var cancelled = options(work, target: target, wait: true)
        let flag = CancellationFlag()
        cancelled.cancellation = flag
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { flag.cancel("interrupted by SIGTERM") }
        let error = expectBackupError(.interrupted) { _ = try catalog.restoreBackup(id: id, options: cancelled) }
        #expect(error?.message.contains("interrupted by SIGTERM while waiting for \(target)") == true)
    }

    @Test("a holder killed with SIGKILL releases the directory at once")
    func killedHolderReleases() throws {
        let work = try TemporaryDirectory("lock-killed")
        defer { work.remove() }
        let (catalog, id, _) = try backup(in: work)
        let target = work.child("target")
        let lockFile = DirectoryLock.lockPath(of: target, stateRoot: work.child("state"))
        // Another process (one, with no children to inherit the lock) holds the lock file, as a restore would.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = [
            "python3", "-c",
            "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600); "
                + "fcntl.flock(fd, fcntl.LOCK_EX); time.sleep(120)",
            lockFile,
        ]
        holder.standardOutput = FileHandle.nullDevice
        holder.standardError = FileHandle.nullDevice
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }
        // Wait until the holder has it: probing with a lock of our own fails then.
        let deadline = Date().addingTimeInterval(30)
        var held = false
        while !held && Date() < deadline {
            let probe = open(lockFile, O_RDONLY | O_CLOEXEC)
            if probe >= 0 {
                held = flock(probe, LOCK_EX | LOCK_NB) != 0
                close(probe)
            }
            if !held { usleep(20_000) }
        }
        try #require(held, "the holder never took the lock")
        let refused = expectBackupError(.busy) {
            _ = try catalog.restoreBackup(id: id, options: options(work, target: target))
        }
        #expect(refused?.message.contains("another restore or create of it is running") == true)
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        let result = try catalog.restoreBackup(id: id, options: options(work, target: target))
        #expect(result.filesRestored > 300)
    }
}

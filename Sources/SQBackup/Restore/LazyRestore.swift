import Foundation
import Logging
import Restore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What `restore --lazy` takes.
public struct LazyRestoreOptions: Sendable {
    /// nil: the backup's original directory (its current contents are covered, not changed,
    /// and reappear after `unmount`).
    public var targetDir: String?
    /// Cover a non-empty `targetDir` instead of failing with "target directory exists".
    public var force = false
    /// nil: `LazyRoot.stateRoot(environment:)`.
    public var stateRoot: String?
    /// Honour the image's setuid bits, capabilities and device nodes (otherwise nosuid, nodev).
    public var trusted = false

    public init(targetDir: String? = nil, force: Bool = false) {
        self.targetDir = targetDir
        self.force = force
    }
}

/// Sets up and tears down lazy roots. Mounting the image itself is the caller's part (the CLI
/// starts the mount daemon; a library user may serve an `ImageMount` on a thread), handed in as
/// `mountLower`, so this type never forks. Restores and teardowns of one target take a lock, and
/// the root's record is written before anything is mounted, so a killed restore leaves state
/// that the next restore or `unmount` of the target finds and removes.
public enum LazyRestore {
    /// Makes `reference` usable at the target at once: checks the target, mounts the image on the
    /// root's lower directory through `mountLower`, then overlayfs at the target. On any failure
    /// everything done so far is undone and BACKUP_RESTORE_FAILED (or the lookup's own error) is thrown.
    public static func restore(
        _ reference: ImageReference, store: StoreSelection, options: LazyRestoreOptions = LazyRestoreOptions(),
        environment: [String: String] = ProcessInfo.processInfo.environment,
        mountLower: (LazyRoot) throws -> Void
    ) throws -> LazyRoot {
        try restore(
            reference, catalog: { try BackupCatalog.open(store, environment: environment) }, options: options,
            environment: environment, mountLower: mountLower)
    }

    /// `restore`, with backup ids looked up in the catalog `catalog` opens (the facade's client).
    static func restore(
        _ reference: ImageReference, catalog openCatalog: () throws -> BackupCatalog, options: LazyRestoreOptions,
        environment: [String: String], mountLower: (LazyRoot) throws -> Void
    ) throws -> LazyRoot {
        guard geteuid() == 0 else {
            throw BackupError(
                .restoreFailed,
                "a lazy restore needs root (it mounts kernel overlayfs); without root, mount the backup read-only "
                    + "or restore real files", reason: .lazyRestoreNeedsRoot)
        }
        var original: String?
        if case .backup(let id) = reference {
            let catalog = try openCatalog()
            _ = try catalog.resolve(id)  // BACKUP_NOT_FOUND / BACKUP_EXPIRED before anything is mounted
            original = try catalog.show(id).dir
        }
        guard let given = options.targetDir ?? original else {
            throw BackupError(.invalidConfig, "\(reference) has no original directory: give a target directory")
        }
        let target = LazyRoot.canonical(given)
        let stateRoot = options.stateRoot ?? LazyRoot.stateRoot(environment: environment)
        try LazyRoot.checkStateRoot(stateRoot)
        let stateDirectory = LazyRoot.stateDirectory(for: target, stateRoot: stateRoot)
        let lock = try TargetLock(path: stateDirectory + ".lock", target: target)
        defer { lock.release() }
        let root = try prepare(reference, target: target, stateRoot: stateRoot, options: options)
        do {
            try mountLower(root)
            try copyRootAttributes(root)
            do {
                try root.overlay.mount(trusted: options.trusted)
            } catch {
                throw BackupError(
                    .restoreFailed,
                    "\(error); the state directory \(root.stateDirectory) must be on a filesystem overlayfs accepts "
                        + "as an upper layer (not overlayfs itself): set SQBACKUP_STATE_DIR")
            }
            return root
        } catch {
            discard(root)
            throw BackupError.wrapping(error, as: .restoreFailed)
        }
    }

    /// overlayfs shows the upper directory's owner, mode and times for the root of the merged
    /// tree, so the upper directory takes the snapshot root's (through a no-follow descriptor).
    private static func copyRootAttributes(_ root: LazyRoot) throws {
        var info = stat()
        guard stat(root.lower, &info) == 0 else {
            throw BackupError(.restoreFailed, "stat \(root.lower): \(String(cString: strerror(errno)))")
        }
        let fd = open(root.upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            throw BackupError(.restoreFailed, "open \(root.upper): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let times = [info.st_atim, info.st_mtim]
        guard fchown(fd, info.st_uid, info.st_gid) == 0, fchmod(fd, info.st_mode & 0o7777) == 0,
            futimens(fd, times) == 0
        else {
            throw BackupError(.restoreFailed, "set up \(root.upper): \(String(cString: strerror(errno)))")
        }
    }

    /// Checks the target, clears what a killed earlier root of it left, creates the state
    /// directory and records the root (before anything is mounted).
    static func prepare(
        _ reference: ImageReference, target: String, stateRoot: String, options: LazyRestoreOptions
    ) throws -> LazyRoot {
        if let existing = LazyRoot.find(target: target, stateRoot: stateRoot) {
            if existing.isMounted {
                throw BackupError(
                    .restoreFailed,
                    "\(target) already holds a lazy root of \(existing.image); `sqbackup unmount \(target)` first")
            }
            // Left over from a reboot or a killed process. Its writes go with it; say so.
            if let written = try? FileManager.default.contentsOfDirectory(atPath: existing.upper), !written.isEmpty {
                Logger(label: "sqbackup.lazy-root").warning(
                    "discarding the writes of an earlier lazy root at \(target) (\(existing.upper)), which was no longer mounted"
                )
            }
            discard(existing)
        }
        var info = stat()
        let exists = lstat(target, &info) == 0
        if exists {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw BackupError(.restoreFailed, "\(target) exists and is not a directory")
            }
            let empty = (try? FileManager.default.contentsOfDirectory(atPath: target).isEmpty) ?? false
            if options.targetDir != nil && !options.force && !empty {
                throw BackupError(
                    .restoreFailed, "\(target): target directory exists and is not empty",
                    reason: .targetNotEmpty(path: target, covering: true))
            }
        }
        let root = LazyRoot(
            target: target, image: reference.description,
            stateDirectory: LazyRoot.stateDirectory(for: target, stateRoot: stateRoot), createdAt: Date(),
            createdTarget: !exists, trusted: options.trusted)
        guard OverlayMount.mountpoints(under: root.stateDirectory).isEmpty else {
            throw BackupError(
                .restoreFailed,
                "\(root.stateDirectory) still has mounts inside; unmount them (see /proc/self/mountinfo) first")
        }
        do {
            if !exists { try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true) }
            try? FileManager.default.removeItem(atPath: root.stateDirectory)
            for directory in [root.lower, root.upper, root.work] {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            try root.saveRecord()
        } catch {
            discard(root)
            throw BackupError(.restoreFailed, "cannot prepare the lazy root: \(error.localizedDescription)")
        }
        return root
    }

    /// Tears the root down: stops its hydration, unmounts the overlay and the lazy mount under it,
    /// and deletes the state directory, upper layer included (writes made in the root are gone).
    /// `detach`: unmount even while files are open there (they then lose the upper layer at once).
    public static func teardown(_ root: LazyRoot, detach: Bool = false) throws {
        let lock = try TargetLock(path: root.lockPath, target: root.target)
        defer { lock.release() }
        stopHydration(root)
        if root.isMounted {
            do {
                try OverlayMount.unmount(root.target, detach: detach)
            } catch RestoreError.busy(let path) {
                throw BackupError(.mountFailed, "\(path) is busy (files are open there)", reason: .busy(path: path))
            } catch {
                throw BackupError(.mountFailed, "\(error)")
            }
        }
        discard(root)
    }

    /// Undoes whatever of `root` exists, ignoring what is already gone. The state directory is
    /// deleted only once nothing is mounted inside it any more.
    static func discard(_ root: LazyRoot) {
        if root.isMounted { try? OverlayMount.unmount(root.target, detach: true) }
        // The lower mount goes even if its daemon died (the mount is still there then).
        if OverlayMount.isMountpoint(root.lower), umount2(root.lower, 0) != 0 {
            _ = umount2(root.lower, Int32(MNT_DETACH))
        }
        if OverlayMount.mountpoints(under: root.stateDirectory).isEmpty {
            try? FileManager.default.removeItem(atPath: root.stateDirectory)
        }
        if root.createdTarget && !OverlayMount.isMountpoint(root.target) { _ = rmdir(root.target) }
    }

    /// Copies every file of the root into its upper layer, recording progress in the state
    /// directory, until done or `shouldStop`. Run by the detached hydration process. A failure
    /// is recorded too, so `status` never shows a dead hydration as running.
    public static func hydrate(_ root: LazyRoot, width: Int = 4, shouldStop: @escaping @Sendable () -> Bool) throws
        -> HydrationProgress
    {
        let pid = getpid()
        let path = root.hydrationPath
        let lastWrite = Mutex(ContinuousClock.now - .seconds(1))
        @Sendable func record(_ progress: HydrationProgress, force: Bool = false) {
            let due = lastWrite.withLock { last in
                guard force || progress.finished || ContinuousClock.now - last > .milliseconds(250) else {
                    return false
                }
                last = ContinuousClock.now
                return true
            }
            guard due, let data = try? JSONEncoder().encode(HydrationState(pid: pid, progress: progress)) else {
                return
            }
            try? data.write(to: URL(fileURLWithPath: path), options: .atomic)
        }
        do {
            let progress = try OverlayHydrator(root: root.target, upper: root.upper, width: width).run(
                shouldStop: shouldStop, report: { record($0) })
            record(progress, force: true)
            return progress
        } catch {
            var failed = root.hydration?.progress ?? HydrationProgress()
            failed.failed.append("hydration stopped: \(error)")
            record(failed, force: true)
            throw BackupError(.restoreFailed, "hydrating \(root.target): \(error)")
        }
    }

    /// Records the calling process as the root's hydrator, before it starts.
    public static func recordHydrationStart(_ root: LazyRoot) throws {
        let data = try JSONEncoder().encode(HydrationState(pid: getpid(), progress: HydrationProgress()))
        try data.write(to: URL(fileURLWithPath: root.hydrationPath), options: .atomic)
    }

    /// Stops a running hydration of `root`: SIGTERM, up to 10 s to finish the file it copies,
    /// then SIGKILL (a copy-up in the kernel only gives way to a fatal signal).
    static func stopHydration(_ root: LazyRoot) {
        guard let state = root.hydration, state.pid > 0, isHydrator(state.pid, of: root) else { return }
        kill(state.pid, SIGTERM)
        for _ in 0..<200 where isHydrator(state.pid, of: root) { usleep(50_000) }
        guard isHydrator(state.pid, of: root) else { return }
        kill(state.pid, SIGKILL)
        for _ in 0..<100 where isHydrator(state.pid, of: root) { usleep(50_000) }
    }

    /// Whether `pid` is alive and hydrating `root` (pids are reused).
    public static func isHydrator(_ pid: Int32, of root: LazyRoot) -> Bool {
        guard pid > 0, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // A zombie (state Z) has finished; its parent just hasn't reaped it.
        if let close = stat.lastIndex(of: ")"), stat[stat.index(after: close)...].hasPrefix(" Z") { return false }
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return arguments.contains("hydrate-root") && arguments.contains(root.target)
    }
}

/// An exclusive `flock` on a target's lock file, so that two restores or teardowns of one
/// target never interleave.
private struct TargetLock {
    let fd: Int32

    init(path: String, target: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw BackupError(.restoreFailed, "lock \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw BackupError(
                .restoreFailed, "another restore or unmount of \(target) is running; try again when it has finished")
        }
    }

    func release() { close(fd) }
}

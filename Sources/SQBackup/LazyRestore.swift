import Foundation
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

    public init(targetDir: String? = nil, force: Bool = false) {
        self.targetDir = targetDir
        self.force = force
    }
}

/// Sets up and tears down lazy roots. Mounting the image itself is the caller's part (the CLI
/// starts the mount daemon; a library user may serve an `ImageMount` on a thread), handed in as
/// `mountLower`, so this type never forks.
public enum LazyRestore {
    /// Makes `reference` usable at the target at once: checks the target, mounts the image on the
    /// root's lower directory through `mountLower`, then overlayfs at the target. On any failure
    /// everything done so far is undone and BACKUP_RESTORE_FAILED (or the lookup's own error) is thrown.
    public static func restore(
        _ reference: ImageReference, store: StoreSelection, options: LazyRestoreOptions = LazyRestoreOptions(),
        environment: [String: String] = ProcessInfo.processInfo.environment,
        mountLower: (LazyRoot) throws -> Void
    ) throws -> LazyRoot {
        let root = try prepare(reference, store: store, options: options, environment: environment)
        do {
            try mountLower(root)
            try copyRootAttributes(root)
            do {
                try root.overlay.mount()
            } catch {
                throw BackupError(
                    .restoreFailed,
                    "\(error); the state directory \(root.stateDirectory) must be on a filesystem overlayfs accepts "
                        + "as an upper layer (not overlayfs itself): set SQBACKUP_STATE_DIR or --state-dir")
            }
            try root.saveRecord()
            return root
        } catch {
            discard(root)
            throw BackupError.wrapping(error, as: .restoreFailed)
        }
    }

    /// overlayfs shows the upper directory's owner, mode and times for the root of the merged tree, so the
    /// upper directory takes the snapshot root's.
    private static func copyRootAttributes(_ root: LazyRoot) throws {
        var info = stat()
        guard stat(root.lower, &info) == 0 else {
            throw BackupError(.restoreFailed, "stat \(root.lower): \(String(cString: strerror(errno)))")
        }
        let times = [info.st_atim, info.st_mtim]
        guard chown(root.upper, info.st_uid, info.st_gid) == 0, chmod(root.upper, info.st_mode & 0o7777) == 0,
            utimensat(AT_FDCWD, root.upper, times, 0) == 0
        else {
            throw BackupError(.restoreFailed, "set up \(root.upper): \(String(cString: strerror(errno)))")
        }
    }

    /// Checks everything that can be checked before mounting and creates the state directory.
    static func prepare(
        _ reference: ImageReference, store: StoreSelection, options: LazyRestoreOptions,
        environment: [String: String]
    ) throws -> LazyRoot {
        guard geteuid() == 0 else {
            throw BackupError(
                .restoreFailed,
                "--lazy needs root (it mounts kernel overlayfs); without root, mount the backup read-only "
                    + "with `sqbackup mount` or restore real files")
        }
        var original: String?
        if case .backup(let id) = reference {
            let catalog = try BackupCatalog.open(store, environment: environment)
            _ = try catalog.resolve(id)  // BACKUP_NOT_FOUND / BACKUP_EXPIRED before anything is mounted
            original = try catalog.show(id).dir
        }
        guard let target = options.targetDir ?? original else {
            throw BackupError(.invalidConfig, "\(reference) has no original directory: give a target directory")
        }
        let stateRoot = options.stateRoot ?? LazyRoot.stateRoot(environment: environment)
        if let existing = LazyRoot.find(target: target, stateRoot: stateRoot) {
            if OverlayMount.isOverlay(target) {
                throw BackupError(
                    .restoreFailed,
                    "\(target) already holds a lazy root of \(existing.image); `sqbackup unmount \(target)` first")
            }
            discard(existing)  // left over from a reboot or a killed process
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
                    .restoreFailed,
                    "\(target): target directory exists and is not empty (use --force to cover it with the snapshot)")
            }
        }
        let root = LazyRoot(
            target: target, image: reference.description,
            stateDirectory: LazyRoot.stateDirectory(for: target, stateRoot: stateRoot), createdAt: Date(),
            createdTarget: !exists)
        do {
            if !exists { try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true) }
            try? FileManager.default.removeItem(atPath: root.stateDirectory)
            for directory in [root.lower, root.upper, root.work] {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
        } catch {
            discard(root)
            throw BackupError(.restoreFailed, "cannot prepare the lazy root: \(error.localizedDescription)")
        }
        return root
    }

    /// Tears the root down: stops its hydration, unmounts the overlay and the lazy mount under it,
    /// and deletes the state directory, upper layer included (writes made in the root are gone).
    /// `detach`: unmount even while files are open there.
    public static func teardown(_ root: LazyRoot, detach: Bool = false) throws {
        stopHydration(root)
        if OverlayMount.isOverlay(root.target) {
            do {
                try OverlayMount.unmount(root.target, detach: detach)
            } catch {
                throw BackupError(.mountFailed, "\(error)")
            }
        }
        discard(root)
    }

    /// Undoes whatever of `root` exists, ignoring what is already gone.
    static func discard(_ root: LazyRoot) {
        if OverlayMount.isOverlay(root.target) { try? OverlayMount.unmount(root.target, detach: true) }
        // The lower mount goes even if its daemon died (then statfs fails, but the mount is still there).
        if umount2(root.lower, 0) != 0 && errno == EBUSY { _ = umount2(root.lower, Int32(MNT_DETACH)) }
        try? FileManager.default.removeItem(atPath: root.stateDirectory)
        if root.createdTarget { _ = rmdir(root.target) }
    }

    /// Copies every file of the root into its upper layer, recording progress in the state
    /// directory, until done or `shouldStop`. Run by the detached hydration process.
    public static func hydrate(_ root: LazyRoot, width: Int = 4, shouldStop: @escaping @Sendable () -> Bool) throws
        -> HydrationProgress
    {
        let pid = getpid()
        let path = root.hydrationPath
        let lastWrite = Mutex(ContinuousClock.now - .seconds(1))
        @Sendable func record(_ progress: HydrationProgress) {
            let due = lastWrite.withLock { last in
                guard progress.finished || ContinuousClock.now - last > .milliseconds(250) else { return false }
                last = ContinuousClock.now
                return true
            }
            guard due, let data = try? JSONEncoder().encode(HydrationState(pid: pid, progress: progress)) else {
                return
            }
            try? data.write(to: URL(fileURLWithPath: path), options: .atomic)
        }
        do {
            let progress = try OverlayHydrator(root: root.target, width: width).run(
                shouldStop: shouldStop, report: record)
            lastWrite.withLock { $0 = ContinuousClock.now - .seconds(1) }
            record(progress)
            return progress
        } catch {
            throw BackupError(.restoreFailed, "hydrating \(root.target): \(error)")
        }
    }

    /// Records the calling process as the root's hydrator, before it starts.
    public static func recordHydrationStart(_ root: LazyRoot) throws {
        let data = try JSONEncoder().encode(HydrationState(pid: getpid(), progress: HydrationProgress()))
        try data.write(to: URL(fileURLWithPath: root.hydrationPath), options: .atomic)
    }

    /// Stops a running hydration of `root` (SIGTERM, then up to 10 s for it to finish its file).
    static func stopHydration(_ root: LazyRoot) {
        guard let state = root.hydration, state.pid > 0, isHydrator(state.pid) else { return }
        kill(state.pid, SIGTERM)
        for _ in 0..<200 where kill(state.pid, 0) == 0 && isHydrator(state.pid) {
            usleep(50_000)
        }
    }

    /// Whether `pid` is still a hydration process (pids are reused).
    private static func isHydrator(_ pid: Int32) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // A zombie (state Z) has finished; its parent just hasn't reaped it.
        if let close = stat.lastIndex(of: ")"), stat[stat.index(after: close)...].hasPrefix(" Z") { return false }
        return data.split(separator: 0).contains { $0.elementsEqual("hydrate-root".utf8) }
    }
}

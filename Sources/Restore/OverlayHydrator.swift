import Storage
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// How far an overlay hydration got.
public struct HydrationProgress: Sendable, Codable, Equatable {
    /// Regular files with data found in the root.
    public var filesTotal = 0
    /// Bytes of those files.
    public var bytesTotal: UInt64 = 0
    /// Files copied up (or found already copied).
    public var filesDone = 0
    public var bytesDone: UInt64 = 0
    /// Files and directories that could not be copied up, with the reason; they keep reading from the snapshot.
    public var failed: [String] = []
    /// The walk finished (everything was tried).
    public var finished = false

    public init() {}
}

/// Copies every regular file of an overlay root into its upper layer, so that file data no
/// longer comes from the lazy mount (and the store). Opening a lower file for writing is what
/// makes overlayfs copy it up whole, with its metadata; nothing is written, so contents and
/// mtimes stay. Directories, symlinks and empty files carry no data and stay in the lower layer.
public struct OverlayHydrator: Sendable {
    public let root: String
    /// The overlay's upper directory: read (never written) to tell what is already copied up.
    public let upper: String
    /// Files copied up at once (each copy is a sequential read of the lazy mount).
    public let width: Int

    public init(root: String, upper: String, width: Int = 4) {
        self.root = root
        self.upper = upper
        self.width = max(1, width)
    }

    /// Walks the root and copies files up until done or `shouldStop` says so; `report` sees the
    /// progress after the walk and after every file. A directory or file that fails is recorded
    /// and skipped; running out of space stops the run.
    public func run(
        shouldStop: @escaping @Sendable () -> Bool, report: @escaping @Sendable (HydrationProgress) -> Void
    ) throws -> HydrationProgress {
        // Work goes out a directory at a time and each directory is reopened by its path
        // (no symlinks followed), so a tree with many directories doesn't hold a descriptor each.
        var walk = Walk()
        let top = try DirectoryHandle.open(path: root)
        var rootInfo = stat()
        guard fstat(top.fd, &rootInfo) == 0 else { throw RestoreError.system("stat", root) }
        collect(top, path: [], device: UInt64(rootInfo.st_dev), into: &walk, shouldStop: shouldStop)
        let progress = Mutex(HydrationProgress())
        let bytesTotal = walk.directories.reduce(0) { total, directory in
            directory.files.reduce(total) { $0 + $1.size }
        }
        progress.withLock { state in
            state.filesTotal = walk.directories.reduce(0) { $0 + $1.files.count } + walk.links.extraNames
            state.bytesTotal = bytesTotal
            state.failed = walk.failed
        }
        report(progress.withLock { $0 })
        var space = statvfs()
        if statvfs(upper, &space) == 0, UInt64(space.f_bavail) * UInt64(space.f_frsize) < bytesTotal {
            throw RestoreError(
                "\(upper) has \(UInt64(space.f_bavail) * UInt64(space.f_frsize)) bytes free, the root's files need "
                    + "\(bytesTotal): not hydrating (the root keeps reading from the store)")
        }
        let noSpace = Atomic<Bool>(false)
        let work = walk.directories
        _ = try ParallelWork.map(count: work.count, width: width) { index in
            let pending = work[index]
            var handle: DirectoryHandle?
            var openFailure: String?
            do {
                handle = try self.directory(pending.path[...])
            } catch {
                openFailure = "\(error)"
            }
            for file in pending.files {
                guard !shouldStop(), !noSpace.load(ordering: .relaxed) else { return }
                let failure = handle.map { Self.copyUp(file.name, in: $0) } ?? openFailure
                if failure == String(cString: strerror(ENOSPC)) { noSpace.store(true, ordering: .relaxed) }
                let snapshot = progress.withLock { state in
                    if let failure {
                        state.failed.append("\(Self.display(pending.path + [file.name])): \(failure)")
                    } else {
                        state.filesDone += 1
                        state.bytesDone += file.size
                    }
                    return state
                }
                report(snapshot)
            }
        }
        if noSpace.load(ordering: .relaxed) {
            throw RestoreError("\(upper): no space left; hydration stopped")
        }
        if !shouldStop() {
            let failures = relink(walk.links)
            progress.withLock { state in
                state.failed += failures
                state.filesDone += walk.links.extraNames - failures.count
            }
        }
        let final = progress.withLock { state in
            state.finished = !shouldStop()
            return state
        }
        report(final)
        return final
    }

    /// What the walk found: directories with files to copy up, link groups, and what it could not read.
    private struct Walk {
        var directories: [PendingDirectory] = []
        var links = LinkGroups()
        var failed: [String] = []
    }

    /// A directory of the root (as name components) and its files that have data.
    private struct PendingDirectory: Sendable {
        var path: [[UInt8]]
        var files: [(name: [UInt8], size: UInt64)]
    }

    /// Names of one multiply linked file, by device and inode number as the overlay showed them
    /// before any copy-up. overlayfs (without `index=on`, which FUSE lowers can't offer) copies
    /// each name up as a file of its own; the names after the first are linked to the first's
    /// copy afterwards.
    private struct LinkGroups {
        struct Key: Hashable {
            var device: UInt64
            var inode: UInt64
        }
        var names: [Key: [[[UInt8]]]] = [:]
        var extraNames: Int { names.values.reduce(0) { $0 + $1.count - 1 } }
    }

    /// Replaces each later name of a link group by a hard link to the first name's copied-up
    /// file (link to a temporary name, then rename over: atomic). Only names still absent from
    /// the upper layer are replaced: one that is there was written or replaced in the root
    /// meanwhile and is the user's now. The first name must be in the upper layer (copied up).
    private func relink(_ links: LinkGroups) -> [String] {
        var failures: [String] = []
        for paths in links.names.values where paths.count > 1 {
            let first = paths[0]
            guard isInUpper(first) else {
                failures.append("\(Self.display(first)): not copied up; its other names were left in the snapshot")
                continue
            }
            for path in paths.dropFirst() where !isInUpper(path) {
                do {
                    let from = try directory(first.dropLast())
                    let into = try directory(path.dropLast())
                    let name = path[path.count - 1]
                    // The link and rename touch the directory; its times stay the snapshot's.
                    var before = stat()
                    let hasTimes = fstat(into.fd, &before) == 0
                    let temporary = Array(".sqbackup-link-\(getpid())-".utf8) + name.prefix(32)
                    let linked = DirectoryHandle.withName(first[first.count - 1]) { old in
                        DirectoryHandle.withName(temporary) { new in linkat(from.fd, old, into.fd, new, 0) }
                    }
                    guard linked == 0 else { throw RestoreError.system("link", Self.display(path)) }
                    do {
                        try into.rename(temporary, to: name)
                    } catch {
                        _ = DirectoryHandle.withName(temporary) { unlinkat(into.fd, $0, 0) }
                        throw error
                    }
                    if hasTimes { _ = futimens(into.fd, [before.st_atim, before.st_mtim]) }
                } catch {
                    failures.append("\(Self.display(path)): \(error)")
                }
            }
        }
        return failures
    }

    /// Whether `path` exists in the upper layer (looked up without following symlinks).
    private func isInUpper(_ path: [[UInt8]]) -> Bool {
        guard let parent = try? path.dropLast().reduce(DirectoryHandle.open(path: upper), { try $0.child($1) }) else {
            return false
        }
        return parent.status(path[path.count - 1]) != nil
    }

    private func directory(_ path: ArraySlice<[UInt8]>) throws -> DirectoryHandle {
        try path.reduce(DirectoryHandle.open(path: root)) { try $0.child($1) }
    }

    private static func display(_ path: [[UInt8]]) -> String {
        path.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/")
    }

    /// Records the files with data below `directory`. Directories of another filesystem (mounts
    /// inside the root, e.g. /proc of a chroot) are not entered; one that can't be read is recorded.
    private func collect(
        _ directory: DirectoryHandle, path: [[UInt8]], device: UInt64, into walk: inout Walk,
        shouldStop: () -> Bool
    ) {
        var pending = PendingDirectory(path: path, files: [])
        var children: [[UInt8]] = []
        let names: [[UInt8]]
        do {
            names = try directory.names()
        } catch {
            walk.failed.append("\(path.isEmpty ? "." : Self.display(path)): \(error)")
            return
        }
        for name in names {
            guard !shouldStop(), let info = directory.status(name) else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR where UInt64(info.st_dev) == device: children.append(name)
            case S_IFREG where info.st_size > 0:
                if info.st_nlink > 1 {
                    let key = LinkGroups.Key(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
                    walk.links.names[key, default: []].append(path + [name])
                    if walk.links.names[key]!.count > 1 { continue }
                }
                pending.files.append((name, UInt64(info.st_size)))
            default: continue  // symlinks, special files, empty files and other mounts: no data to fetch
            }
        }
        if !pending.files.isEmpty { walk.directories.append(pending) }
        for name in children {
            do {
                try collect(
                    directory.child(name), path: path + [name], device: device, into: &walk, shouldStop: shouldStop)
            } catch {
                walk.failed.append("\(Self.display(path + [name])): \(error)")
            }
        }
    }

    /// Opens `name` for writing (no O_TRUNC) and closes it: overlayfs copies the file up on the open.
    /// Returns the reason on failure. O_NONBLOCK: should the entry have become a fifo meanwhile, the
    /// open fails instead of waiting for a reader.
    private static func copyUp(_ name: [UInt8], in directory: DirectoryHandle) -> String? {
        let fd = DirectoryHandle.withName(name) {
            openat(directory.fd, $0, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        }
        guard fd >= 0 else {
            let code = errno
            return code == ENOENT ? nil : String(cString: strerror(code))  // removed meanwhile: nothing to keep
        }
        close(fd)
        return nil
    }
}

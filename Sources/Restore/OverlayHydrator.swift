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
    /// Files that could not be copied up, with the reason; they keep reading from the snapshot.
    public var failed: [String] = []
    /// The walk finished (everything was tried).
    public var finished = false

    public init() {}
}

/// Copies every regular file of an overlay root into its upper layer, so the root stops reading
/// the lazy mount (and the network) altogether. Opening a lower file for writing is what makes
/// overlayfs copy it up whole, with its metadata; nothing is written, so contents and mtimes stay.
public struct OverlayHydrator: Sendable {
    public let root: String
    /// Files copied up at once (each copy is a sequential read of the lazy mount).
    public let width: Int

    public init(root: String, width: Int = 4) {
        self.root = root
        self.width = max(1, width)
    }

    /// Walks the root and copies files up until done or `shouldStop` says so; `report` sees the
    /// progress after the walk and after every file.
    public func run(
        shouldStop: @escaping @Sendable () -> Bool, report: @escaping @Sendable (HydrationProgress) -> Void
    ) throws -> HydrationProgress {
        // Work goes out a directory at a time and each directory is reopened by its path
        // (no symlinks followed), so a tree with many directories doesn't hold a descriptor each.
        var directories: [PendingDirectory] = []
        var links = LinkGroups()
        try collect(
            DirectoryHandle.open(path: root), path: [], into: &directories, links: &links, shouldStop: shouldStop)
        let progress = Mutex(HydrationProgress())
        progress.withLock { state in
            state.filesTotal = directories.reduce(0) { $0 + $1.files.count } + links.extraNames
            state.bytesTotal = directories.reduce(0) { total, directory in
                directory.files.reduce(total) { $0 + $1.size }
            }
        }
        report(progress.withLock { $0 })
        let work = directories
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
                guard !shouldStop() else { return }
                let failure = handle.map { Self.copyUp(file.name, in: $0) } ?? openFailure
                let snapshot = progress.withLock { state in
                    if let failure {
                        let path = (pending.path + [file.name]).map { String(decoding: $0, as: UTF8.self) }
                        state.failed.append("\(path.joined(separator: "/")): \(failure)")
                    } else {
                        state.filesDone += 1
                        state.bytesDone += file.size
                    }
                    return state
                }
                report(snapshot)
            }
        }
        if !shouldStop() {
            let failures = relink(links)
            progress.withLock { state in
                state.failed += failures
                state.filesDone += links.extraNames - failures.count
            }
        }
        let final = progress.withLock { state in
            state.finished = !shouldStop()
            return state
        }
        report(final)
        return final
    }

    /// A directory of the root (as name components) and its files that have data.
    private struct PendingDirectory: Sendable {
        var path: [[UInt8]]
        var files: [(name: [UInt8], size: UInt64)]
    }

    /// Names of one multiply linked file, by the inode number the overlay showed before any copy-up.
    /// overlayfs (without `index=on`, which FUSE lowers can't offer) copies each name up as a file of
    /// its own; the names after the first are linked to the first's copy afterwards.
    private struct LinkGroups {
        var names: [UInt64: [[[UInt8]]]] = [:]
        var extraNames: Int { names.values.reduce(0) { $0 + $1.count - 1 } }
    }

    /// Replaces each later name of a link group, still untouched since the walk, by a hard link to
    /// the first name's copied-up file (link to a temporary name, then rename over: atomic).
    private func relink(_ links: LinkGroups) -> [String] {
        var failures: [String] = []
        for (inode, paths) in links.names where paths.count > 1 {
            let first = paths[0]
            for path in paths.dropFirst() {
                let display = path.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/")
                do {
                    let from = try directory(first.dropLast())
                    let into = try directory(path.dropLast())
                    let name = path[path.count - 1]
                    guard let current = into.status(name), UInt64(current.st_ino) == inode else {
                        continue  // changed by the user meanwhile: theirs now
                    }
                    // The link and rename touch the directory; its times stay the snapshot's.
                    var before = stat()
                    let hasTimes = fstat(into.fd, &before) == 0
                    let temporary = Array(".sqbackup-link-\(getpid())-".utf8) + name.prefix(32)
                    let linked = DirectoryHandle.withName(first[first.count - 1]) { old in
                        DirectoryHandle.withName(temporary) { new in linkat(from.fd, old, into.fd, new, 0) }
                    }
                    guard linked == 0 else { throw RestoreError.system("link", display) }
                    do {
                        try into.rename(temporary, to: name)
                    } catch {
                        _ = DirectoryHandle.withName(temporary) { unlinkat(into.fd, $0, 0) }
                        throw error
                    }
                    if hasTimes { _ = futimens(into.fd, [before.st_atim, before.st_mtim]) }
                } catch {
                    failures.append("\(display): \(error)")
                }
            }
        }
        return failures
    }

    private func directory(_ path: ArraySlice<[UInt8]>) throws -> DirectoryHandle {
        try path.reduce(DirectoryHandle.open(path: root)) { try $0.child($1) }
    }

    private func collect(
        _ directory: DirectoryHandle, path: [[UInt8]], into directories: inout [PendingDirectory],
        links: inout LinkGroups, shouldStop: () -> Bool
    ) throws {
        var pending = PendingDirectory(path: path, files: [])
        var children: [[UInt8]] = []
        for name in try directory.names() {
            guard !shouldStop(), let info = directory.status(name) else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR: children.append(name)
            case S_IFREG where info.st_size > 0:
                if info.st_nlink > 1 {
                    links.names[UInt64(info.st_ino), default: []].append(path + [name])
                    if links.names[UInt64(info.st_ino)]!.count > 1 { continue }
                }
                pending.files.append((name, UInt64(info.st_size)))
            default: continue  // symlinks, special files and empty files carry no data to fetch
            }
        }
        if !pending.files.isEmpty { directories.append(pending) }
        for name in children {
            try collect(
                directory.child(name), path: path + [name], into: &directories, links: &links, shouldStop: shouldStop)
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

import CSystemShims

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Scans a directory tree once with `lstat` (never following symlinks) into a `FileTree`.
struct TreeWalker {
    let options: BuildOptions
    let report: (BuildWarning) -> Void

    /// The kernel's squashfs name limit (SQUASHFS_NAME_LEN); Linux names stop at 255 anyway.
    static let maxNameLength = 256

    func scan(root rootPath: String) throws -> FileTree {
        var rootBytes = Array(rootPath.utf8)
        while rootBytes.count > 1 && rootBytes.last == UInt8(ascii: "/") { rootBytes.removeLast() }
        var tree = FileTree()
        let info = try rootInfo(rootPath, rootBytes)
        let rootDevice = UInt64(info.st_dev)
        tree.nodes.append(try makeNode(path: rootBytes, info: info, tree: &tree))

        var hardLinks: [HardLinkKey: Int] = [:]
        var pending = [(node: FileTree.root, relative: [UInt8]())]
        while let (directory, relative) = pending.popLast() {
            let directoryPath = tree.nodes[directory].path
            let names: [[UInt8]]
            do {
                names = try listDirectory(directoryPath)
            } catch let error as BuildError {
                guard options.skipUnreadable, directory != FileTree.root else { throw error }
                warn(.skippedUnreadable, directoryPath, "\(error); its contents are left out", &tree)
                continue
            }
            var entries: [TreeNode.Entry] = []
            for name in names {
                guard name.count <= TreeWalker.maxNameLength else {
                    throw BuildError.unsupportedEntry(
                        path: String(decoding: join(directoryPath, name), as: UTF8.self),
                        reason: "the name is \(name.count) bytes long, squashfs allows \(TreeWalker.maxNameLength)")
                }
                let path = join(directoryPath, name)
                let relativePath = relative.isEmpty ? name : relative + [UInt8(ascii: "/")] + name
                var childInfo = stat()
                guard lstatBytes(path, &childInfo) == 0 else {
                    let code = errno
                    if code == ENOENT {
                        warn(.vanished, path, "deleted during the scan; left out", &tree)
                        continue
                    }
                    let error = BuildError.unreadable(
                        path: String(decoding: path, as: UTF8.self), reason: String(cString: strerror(code)))
                    guard options.skipUnreadable else { throw error }
                    warn(.skippedUnreadable, path, "\(error); left out", &tree)
                    continue
                }
                let isDirectory = childInfo.st_mode & S_IFMT == S_IFDIR
                if options.excludes.contains(where: { $0.matches(path: relativePath, isDirectory: isDirectory) }) {
                    continue
                }
                if !isDirectory && childInfo.st_nlink > 1 {
                    let key = HardLinkKey(device: UInt64(childInfo.st_dev), inode: UInt64(childInfo.st_ino))
                    if let existing = hardLinks[key] {
                        entries.append(TreeNode.Entry(name: name, node: existing))
                        continue
                    }
                    hardLinks[key] = tree.nodes.count
                }
                let node: TreeNode
                do {
                    node = try makeNode(path: path, info: childInfo, tree: &tree)
                } catch let error as BuildError {
                    guard options.skipUnreadable, case .unreadable = error else { throw error }
                    warn(.skippedUnreadable, path, "\(error); left out", &tree)
                    continue
                }
                let index = tree.nodes.count
                tree.nodes.append(node)
                entries.append(TreeNode.Entry(name: name, node: index))
                if isDirectory {
                    if options.oneFileSystem && UInt64(childInfo.st_dev) != rootDevice {
                        warn(.mountPointNotCrossed, path, "another filesystem is mounted here; stored empty", &tree)
                    } else {
                        pending.append((index, relativePath))
                    }
                }
            }
            tree.nodes[directory].entries = entries
        }
        return tree
    }

    /// The root's `stat`: a directory, or a symlink to one (a common way to name a backup target).
    private func rootInfo(_ rootPath: String, _ rootBytes: [UInt8]) throws -> stat {
        var info = stat()
        guard lstatBytes(rootBytes, &info) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw BuildError.directoryNotFound(path: rootPath) }
            throw BuildError.unreadable(path: rootPath, reason: String(cString: strerror(code)))
        }
        if info.st_mode & S_IFMT == S_IFLNK {
            guard stat(rootPath, &info) == 0 else { throw BuildError.directoryNotFound(path: rootPath) }
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw BuildError.notADirectory(path: rootPath) }
        return info
    }

    private struct HardLinkKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    private func warn(_ kind: BuildWarning.Kind, _ path: [UInt8], _ message: String, _ tree: inout FileTree) {
        let warning = BuildWarning(kind: kind, path: String(decoding: path, as: UTF8.self), message: message)
        tree.warnings.append(warning)
        report(warning)
    }

    private func join(_ directory: [UInt8], _ name: [UInt8]) -> [UInt8] {
        directory == [UInt8(ascii: "/")] ? directory + name : directory + [UInt8(ascii: "/")] + name
    }

    /// Names in byte order, without "." and "..".
    private func listDirectory(_ path: [UInt8]) throws -> [[UInt8]] {
        guard let handle = withCPath(path, { opendir($0) }) else {
            throw BuildError.unreadable(
                path: String(decoding: path, as: UTF8.self), reason: String(cString: strerror(errno)))
        }
        defer { closedir(handle) }
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let entry = readdir(handle) else {
                if errno != 0 {
                    throw BuildError.unreadable(
                        path: String(decoding: path, as: UTF8.self), reason: String(cString: strerror(errno)))
                }
                break
            }
            let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: UInt8.self, capacity: 256) { bytes in
                    Array(
                        UnsafeBufferPointer(
                            start: bytes, count: strlen(UnsafeRawPointer(bytes).assumingMemoryBound(to: CChar.self))))
                }
            }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            names.append(name)
        }
        names.sort { $0.lexicographicallyPrecedes($1) }
        return names
    }

    private func makeNode(path: [UInt8], info: stat, tree: inout FileTree) throws -> TreeNode {
        let kind: TreeNode.Kind
        switch info.st_mode & S_IFMT {
        case S_IFDIR: kind = .directory
        case S_IFREG: kind = .file
        case S_IFLNK: kind = .symlink
        case S_IFCHR: kind = .charDevice
        case S_IFBLK: kind = .blockDevice
        case S_IFIFO: kind = .fifo
        case S_IFSOCK: kind = .socket
        default:
            throw BuildError.unsupportedEntry(
                path: String(decoding: path, as: UTF8.self), reason: "unknown file type \(info.st_mode & S_IFMT)")
        }
        var node = TreeNode(
            kind: kind, path: path, mode: UInt16(truncatingIfNeeded: info.st_mode), uid: info.st_uid,
            gid: info.st_gid, mtime: clampTime(Int64(info.st_mtim.tv_sec), path, &tree),
            size: kind == .file ? UInt64(info.st_size) : 0, device: UInt64(info.st_dev),
            inode: UInt64(info.st_ino))
        tree.ownerIDs.insert(info.st_uid)
        tree.ownerIDs.insert(info.st_gid)
        tree.newestMtime = max(tree.newestMtime, node.mtime)
        switch kind {
        case .symlink:
            node.target = try readLink(path)
        case .charDevice, .blockDevice:
            node.deviceNumber = try encodeDevice(UInt64(info.st_rdev), path)
        default:
            break
        }
        node.xattrs = try readXattrs(path, &tree)
        return node
    }

    private func clampTime(_ seconds: Int64, _ path: [UInt8], _ tree: inout FileTree) -> UInt32 {
        if seconds < 0 {
            warn(.timestampClamped, path, "mtime \(seconds) is before 1970; stored as 1970-01-01", &tree)
            return 0
        }
        if seconds > Int64(UInt32.max) {
            warn(.timestampClamped, path, "mtime \(seconds) is after 2106-02-07; stored as 2106-02-07", &tree)
            return UInt32.max
        }
        return UInt32(seconds)
    }

    private func readLink(_ path: [UInt8]) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = withCPath(path) { cPath in
            buffer.withUnsafeMutableBytes {
                readlink(cPath, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count)
            }
        }
        guard count >= 0 else {
            throw BuildError.unreadable(
                path: String(decoding: path, as: UTF8.self), reason: String(cString: strerror(errno)))
        }
        return Array(buffer[0..<count])
    }

    /// The kernel's `new_encode_dev`, which is what squashfs stores: 12-bit major, 20-bit minor.
    private func encodeDevice(_ rdev: UInt64, _ path: [UInt8]) throws -> UInt32 {
        let major = ((rdev >> 8) & 0xFFF) | ((rdev >> 32) & ~UInt64(0xFFF))
        let minor = (rdev & 0xFF) | ((rdev >> 12) & ~UInt64(0xFF))
        guard major <= 0xFFF, minor <= 0xF_FFFF else {
            throw BuildError.unsupportedEntry(
                path: String(decoding: path, as: UTF8.self),
                reason: "device \(major):\(minor) does not fit squashfs's 12-bit major, 20-bit minor")
        }
        return UInt32((minor & 0xFF) | (major << 8) | ((minor & ~UInt64(0xFF)) << 12))
    }

    private static let storablePrefixes = ["user.", "trusted.", "security."].map { Array($0.utf8) }

    private func readXattrs(_ path: [UInt8], _ tree: inout FileTree) throws -> [(key: [UInt8], value: [UInt8])] {
        var names: [UInt8] = []
        while true {
            let size = withCPath(path) { llistxattr($0, nil, 0) }
            if size < 0 {
                if errno == ENOTSUP || errno == ENODATA { return [] }
                throw BuildError.unreadable(
                    path: String(decoding: path, as: UTF8.self),
                    reason: "listing xattrs: \(String(cString: strerror(errno)))")
            }
            if size == 0 { return [] }
            names = [UInt8](repeating: 0, count: size)
            let got = withCPath(path) { cPath in
                names.withUnsafeMutableBytes {
                    llistxattr(cPath, $0.baseAddress!.assumingMemoryBound(to: CChar.self), size)
                }
            }
            if got < 0 && errno == ERANGE { continue }
            if got < 0 {
                throw BuildError.unreadable(
                    path: String(decoding: path, as: UTF8.self),
                    reason: "listing xattrs: \(String(cString: strerror(errno)))")
            }
            names.removeSubrange(got...)
            break
        }
        var result: [(key: [UInt8], value: [UInt8])] = []
        for key in names.split(separator: 0).map(Array.init) {
            guard TreeWalker.storablePrefixes.contains(where: { key.starts(with: $0) }) else {
                warn(
                    .xattrDropped, path, "xattr \(String(decoding: key, as: UTF8.self)) can't be stored in squashfs",
                    &tree)
                continue
            }
            guard let value = try readXattr(path, key) else { continue }
            result.append((key, value))
        }
        result.sort { $0.key.lexicographicallyPrecedes($1.key) }
        return result
    }

    private func readXattr(_ path: [UInt8], _ key: [UInt8]) throws -> [UInt8]? {
        let cKey = key.map { CChar(bitPattern: $0) } + [0]
        while true {
            let size = withCPath(path) { lgetxattr($0, cKey, nil, 0) }
            if size < 0 {
                if errno == ENODATA { return nil }
                throw BuildError.unreadable(
                    path: String(decoding: path, as: UTF8.self),
                    reason: "reading xattr \(String(decoding: key, as: UTF8.self)): \(String(cString: strerror(errno)))"
                )
            }
            var value = [UInt8](repeating: 0, count: size)
            let got = withCPath(path) { cPath in
                value.withUnsafeMutableBytes { lgetxattr(cPath, cKey, $0.baseAddress, size) }
            }
            if got < 0 && errno == ERANGE { continue }
            if got < 0 { return nil }
            value.removeSubrange(got...)
            return value
        }
    }
}

/// Calls `body` with `path` as a NUL-terminated C string.
func withCPath<R>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
    var bytes = path
    bytes.append(0)
    return try bytes.withUnsafeBufferPointer { buffer in
        try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
    }
}

/// `lstat` for a byte path.
func lstatBytes(_ path: [UInt8], _ info: inout stat) -> Int32 {
    withCPath(path) { lstat($0, &info) }
}

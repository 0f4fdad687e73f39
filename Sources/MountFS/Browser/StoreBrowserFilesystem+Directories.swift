import CFuse3
import SquashReader

#if canImport(Glibc)
    import Glibc
#endif

/// The entries of one of the browser's directories as they were at opendir, so that a listing
/// read in several readdir calls stays consistent across a refresh.
final class BrowserDirectoryHandle {
    struct Entry {
        let name: String
        let number: fuse_ino_t
        let mode: mode_t
        /// Full attributes for readdirplus; nil for a backup's root, which would have to open its image.
        let entry: fuse_entry_param?
    }

    let number: fuse_ino_t
    let parent: fuse_ino_t
    let entries: [Entry]

    init(number: fuse_ino_t, parent: fuse_ino_t, entries: [Entry]) {
        self.number = number
        self.parent = parent
        self.entries = entries
    }
}

extension StoreBrowserFilesystem {
    func opendir(_ request: fuse_req_t, ino: fuse_ino_t, info: UnsafeMutablePointer<fuse_file_info>) {
        guard Self.isBrowserNode(ino) else {
            // An open directory pins its image, as an open file does.
            return withImage(request, ino, pin: true) { filesystem, node in
                guard filesystem.image.attributes(of: NodeID(node))?.kind == .directory else {
                    images.unpin(slot: BrowserInodes.split(ino).slot)
                    fuse_reply_err(request, ENOTDIR)
                    return
                }
                filesystem.opendir(request, ino: node, info: info)
            }
        }
        guard let directory = inodes.node(ino), directory.isDirectory else {
            fuse_reply_err(request, ENOTDIR)
            return
        }
        let handle: BrowserDirectoryHandle
        do {
            handle = BrowserDirectoryHandle(
                number: ino, parent: inodes.number(of: directory.parent), entries: try handleEntries(of: directory))
        } catch {
            logger.error("listing the store failed: \(error)")
            fuse_reply_err(request, EIO)
            return
        }
        // No keep_cache or cache_readdir: the listing changes at each refresh.
        info.pointee.fh = UInt64(UInt(bitPattern: Unmanaged.passRetained(handle).toOpaque()))
        if fuse_reply_open(request, info) != 0 { Self.releaseHandle(info.pointee.fh) }
    }

    private func handleEntries(of directory: BrowserNode) throws -> [BrowserDirectoryHandle.Entry] {
        try children(of: directory).map { name, child in
            switch child {
            case .node(let node):
                let entry = entry(for: node)
                return .init(name: name, number: entry.ino, mode: entry.attr.st_mode, entry: entry)
            case .backup(let id):
                let root = BrowserInodes.compose(slot: inodes.slot(of: id), node: fuse_ino_t(SquashImage.rootID))
                return .init(name: name, number: root, mode: S_IFDIR | 0o555, entry: nil)
            }
        }
    }

    /// Offsets as in `SquashFilesystem.readdir`: 0 start, 1 after ".", 2 after "..", 2 + n after the n-th entry.
    func readdir(_ request: fuse_req_t, ino: fuse_ino_t, size: Int, offset: off_t, fileHandle: UInt64, plus: Bool) {
        guard Self.isBrowserNode(ino) else {
            return withImage(request, ino) { filesystem, node in
                filesystem.readdir(request, ino: node, size: size, offset: offset, plus: plus)
            }
        }
        guard let pointer = UnsafeRawPointer(bitPattern: UInt(fileHandle)) else {
            fuse_reply_err(request, EBADF)
            return
        }
        let handle = Unmanaged<BrowserDirectoryHandle>.fromOpaque(pointer).takeUnretainedValue()
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(size, 1))
        defer { buffer.deallocate() }
        var used = 0
        let all: [BrowserDirectoryHandle.Entry] =
            [
                .init(name: ".", number: handle.number, mode: S_IFDIR, entry: nil),
                .init(name: "..", number: handle.parent, mode: S_IFDIR, entry: nil),
            ] + handle.entries
        for position in Int(max(offset, 0))..<all.count {
            let item = all[position]
            let remaining = size - used
            let needed: Int
            if plus {
                // A zero node id adds the name without attributes: the kernel looks it up when used
                // (and ignores "." and ".." here anyway).
                var entry = item.entry ?? fuse_entry_param()
                if item.entry == nil {
                    entry.attr.st_ino = ino_t(item.number)
                    entry.attr.st_mode = item.mode
                }
                needed = fuse_add_direntry_plus(
                    request, buffer + used, remaining, item.name, &entry, off_t(position + 1))
            } else {
                var info = stat()
                info.st_ino = ino_t(item.number)
                info.st_mode = item.mode
                needed = fuse_add_direntry(request, buffer + used, remaining, item.name, &info, off_t(position + 1))
            }
            if needed > remaining { break }
            used += needed
        }
        fuse_reply_buf(request, buffer, used)
    }

    func releasedir(ino: fuse_ino_t, fileHandle: UInt64) {
        let slot = BrowserInodes.split(ino).slot
        if slot != 0 {
            images.unpin(slot: slot)
        } else {
            Self.releaseHandle(fileHandle)
        }
    }

    private static func releaseHandle(_ fileHandle: UInt64) {
        guard let pointer = UnsafeRawPointer(bitPattern: UInt(fileHandle)) else { return }
        Unmanaged<BrowserDirectoryHandle>.fromOpaque(pointer).release()
    }
}

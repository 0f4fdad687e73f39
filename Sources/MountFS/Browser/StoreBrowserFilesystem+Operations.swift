import CFuse3
import SquashReader

#if canImport(Glibc)
    import Glibc
#endif

// Every operation but the directory ones: an image's inode goes to its filesystem, the browser's
// own nodes are answered here.
extension StoreBrowserFilesystem: FuseFilesystem {
    func initialize(_ connection: UnsafeMutablePointer<fuse_conn_info>) {
        ConnectionCapabilities.negotiate(connection)
    }

    func lookup(_ request: fuse_req_t, parent: fuse_ino_t, name: UnsafePointer<CChar>) {
        guard Self.isBrowserNode(parent) else {
            return withImage(request, parent) { filesystem, node in
                filesystem.lookup(request, parent: node, name: name)
            }
        }
        guard let directory = inodes.node(parent), directory.isDirectory else {
            fuse_reply_err(request, ENOTDIR)
            return
        }
        let text = String(cString: name)
        let child: BrowserChild?
        do {
            child = try self.child(named: text, in: directory)
        } catch {
            logger.error("listing the store failed: \(error)")
            fuse_reply_err(request, EIO)
            return
        }
        switch child {
        case nil:
            // Not cached as a miss: a backup made meanwhile must show up at the next refresh.
            fuse_reply_err(request, ENOENT)
        case .node(let node):
            var entry = entry(for: node)
            fuse_reply_entry(request, &entry)
        case .backup(let id):
            do {
                var entry = try backupRootEntry(id)
                fuse_reply_entry(request, &entry)
            } catch {
                fuse_reply_err(request, errorNumber(for: error, opening: id))
            }
        }
    }

    func getattr(_ request: fuse_req_t, ino: fuse_ino_t) {
        guard Self.isBrowserNode(ino) else {
            return withImage(request, ino) { filesystem, node in filesystem.getattr(request, ino: node) }
        }
        guard let node = inodes.node(ino) else {
            fuse_reply_err(request, ENOENT)
            return
        }
        var info = attributes(of: node, number: ino)
        fuse_reply_attr(request, &info, listingTimeout)
    }

    func readlink(_ request: fuse_req_t, ino: fuse_ino_t) {
        guard Self.isBrowserNode(ino) else {
            return withImage(request, ino) { filesystem, node in filesystem.readlink(request, ino: node) }
        }
        guard case .symlink(_, let target) = inodes.node(ino) else {
            fuse_reply_err(request, EINVAL)
            return
        }
        fuse_reply_readlink(request, target)
    }

    func open(_ request: fuse_req_t, ino: fuse_ino_t, info: UnsafeMutablePointer<fuse_file_info>) {
        guard !Self.isBrowserNode(ino) else {
            fuse_reply_err(request, inodes.node(ino)?.isDirectory == true ? EISDIR : EINVAL)
            return
        }
        // The open file pins its image until `release`; a refused open pins nothing.
        info.pointee.fh = 0
        withImage(request, ino, pin: true) { filesystem, node in
            filesystem.open(request, ino: node, info: info)
            if info.pointee.fh == 0 { images.unpin(slot: BrowserInodes.split(ino).slot) }
        }
    }

    func read(_ request: fuse_req_t, ino: fuse_ino_t, size: Int, offset: off_t, fileHandle: UInt64) {
        let (slot, node) = BrowserInodes.split(ino)
        if let filesystem = images.openFilesystem(slot: slot) {
            return filesystem.read(request, ino: node, size: size, offset: offset, fileHandle: fileHandle)
        }
        withImage(request, ino) { filesystem, node in
            filesystem.read(request, ino: node, size: size, offset: offset, fileHandle: fileHandle)
        }
    }

    func release(ino: fuse_ino_t, fileHandle: UInt64) {
        let slot = BrowserInodes.split(ino).slot
        guard slot != 0 else { return }
        // The handle is the image's `FileReader`; dropping it needs no particular filesystem.
        images.openFilesystem(slot: slot)?.release(fileHandle: fileHandle)
        images.unpin(slot: slot)
    }

    func statfs(_ request: fuse_req_t) {
        var info = statvfs()
        info.f_bsize = 4096
        info.f_frsize = 4096
        info.f_namemax = 255
        info.f_flag = UInt(ST_RDONLY)
        fuse_reply_statfs(request, &info)
    }

    func getxattr(_ request: fuse_req_t, ino: fuse_ino_t, name: UnsafePointer<CChar>, size: Int) {
        guard Self.isBrowserNode(ino) else {
            return withImage(request, ino) { filesystem, node in
                // An image without xattrs answers ENOSYS, which would switch xattrs off for the
                // whole mount, other images included.
                guard filesystem.image.hasExtendedAttributes else {
                    fuse_reply_err(request, ENODATA)
                    return
                }
                filesystem.getxattr(request, ino: node, name: name, size: size)
            }
        }
        fuse_reply_err(request, ENODATA)
    }

    func listxattr(_ request: fuse_req_t, ino: fuse_ino_t, size: Int) {
        guard Self.isBrowserNode(ino) else {
            return withImage(request, ino) { filesystem, node in
                guard filesystem.image.hasExtendedAttributes else { return Self.replyNoAttributes(request, size) }
                filesystem.listxattr(request, ino: node, size: size)
            }
        }
        Self.replyNoAttributes(request, size)
    }

    private static func replyNoAttributes(_ request: fuse_req_t, _ size: Int) {
        if size == 0 {
            fuse_reply_xattr(request, 0)
        } else {
            fuse_reply_buf(request, nil, 0)
        }
    }
}

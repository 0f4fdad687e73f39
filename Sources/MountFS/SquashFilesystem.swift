import CFuse3
import Logging
import SquashReader
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The FUSE face of an image: one method per low-level operation, each mapping a kernel
/// request onto `SquashImage`, which knows nothing of FUSE. FUSE inode numbers are node ids.
public final class SquashFilesystem: Sendable {
    public let image: SquashImage
    let logger: Logger
    /// Added to every node id the kernel is given (the store browser gives each image its own
    /// range); the kernel's inode numbers arrive here with it already taken off.
    let inodeBase: fuse_ino_t
    /// The image never changes, so the kernel may cache entries and attributes for good.
    private let timeout: Double = 86_400 * 365
    /// Directories whose first readdirplus chunk still carries every entry's attributes since a
    /// lookup of a file showed that someone stats entries (`ls -l`); at 0, first chunks carry
    /// attributes for subdirectories only, so a walk that never stats (`find`) does not make the
    /// kernel build an inode per file. See `readdir`.
    private let statingWalk = Atomic<Int>(0)
    private static let statingWalkSpan = 64

    public convenience init(image: SquashImage, logger: Logger = Logger(label: "sqbackup.mount")) {
        self.init(image: image, logger: logger, inodeBase: 0)
    }

    init(image: SquashImage, logger: Logger, inodeBase: fuse_ino_t) {
        self.image = image
        self.logger = logger
        self.inodeBase = inodeBase
    }

    func fillStat(_ attributes: NodeAttributes, into info: inout stat) {
        info = stat()
        info.st_ino = ino_t(inodeBase | fuse_ino_t(attributes.id))
        info.st_mode = mode_t(attributes.mode)
        info.st_nlink = nlink_t(attributes.nlink)
        info.st_uid = attributes.uid
        info.st_gid = attributes.gid
        info.st_size = off_t(attributes.size)
        info.st_rdev = dev_t(attributes.rdev)
        info.st_blksize = blksize_t(image.info.blockSize)
        info.st_blocks = blkcnt_t((attributes.size + 511) / 512)
        let time = timespec(tv_sec: Int(attributes.mtime), tv_nsec: 0)
        info.st_mtim = time
        info.st_atim = time
        info.st_ctim = time
    }

    private func entryParam(_ id: NodeID) throws -> fuse_entry_param? {
        guard let attributes = try image.loadAttributes(of: id) else { return nil }
        var entry = fuse_entry_param()
        entry.ino = inodeBase | fuse_ino_t(id)
        entry.generation = 1
        fillStat(attributes, into: &entry.attr)
        entry.attr_timeout = timeout
        entry.entry_timeout = timeout
        return entry
    }

    /// Metadata that does not decode fails the one request with EIO, logged with the node.
    private func failMetadata(_ request: fuse_req_t, _ ino: fuse_ino_t, _ error: any Error) {
        logger.error("metadata of inode \(ino) unreadable: \(error)")
        fuse_reply_err(request, EIO)
    }

    func lookup(_ request: fuse_req_t, parent: fuse_ino_t, name: UnsafePointer<CChar>) {
        let length = strlen(name)
        do {
            guard try image.loadAttributes(of: NodeID(parent))?.kind == .directory else {
                fuse_reply_err(request, ENOTDIR)
                return
            }
            guard let id = try image.loadLookup(UnsafeRawBufferPointer(start: name, count: length), in: NodeID(parent)),
                var entry = try entryParam(id)
            else {
                // A negative entry with a timeout lets the kernel cache the miss as well.
                var negative = fuse_entry_param()
                negative.entry_timeout = timeout
                fuse_reply_entry(request, &negative)
                return
            }
            if entry.attr.st_mode & S_IFMT != S_IFDIR {
                statingWalk.store(Self.statingWalkSpan, ordering: .relaxed)
            }
            fuse_reply_entry(request, &entry)
        } catch {
            failMetadata(request, parent, error)
        }
    }

    func getattr(_ request: fuse_req_t, ino: fuse_ino_t) {
        do {
            guard let attributes = try image.loadAttributes(of: NodeID(ino)) else {
                fuse_reply_err(request, ENOENT)
                return
            }
            var info = stat()
            fillStat(attributes, into: &info)
            fuse_reply_attr(request, &info, timeout)
        } catch {
            failMetadata(request, ino, error)
        }
    }

    func readlink(_ request: fuse_req_t, ino: fuse_ino_t) {
        guard var target = image.symlinkTarget(of: NodeID(ino)) else {
            fuse_reply_err(request, EINVAL)
            return
        }
        target.append(0)
        target.withUnsafeBufferPointer { buffer in
            _ = buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                fuse_reply_readlink(request, $0)
            }
        }
    }

    func open(_ request: fuse_req_t, ino: fuse_ino_t, info: UnsafeMutablePointer<fuse_file_info>) {
        guard let attributes = image.attributes(of: NodeID(ino)) else {
            fuse_reply_err(request, ENOENT)
            return
        }
        guard attributes.kind == .regularFile else {
            fuse_reply_err(request, attributes.kind == .directory ? EISDIR : EINVAL)
            return
        }
        if info.pointee.flags & O_ACCMODE != O_RDONLY || info.pointee.flags & O_TRUNC != 0 {
            fuse_reply_err(request, EROFS)
            return
        }
        info.pointee.keep_cache = 1
        // Each open file gets its own readahead state; released in `release`.
        info.pointee.fh = UInt64(UInt(bitPattern: Unmanaged.passRetained(image.openFile(NodeID(ino))).toOpaque()))
        if fuse_reply_open(request, info) != 0 {
            release(fileHandle: info.pointee.fh)
            info.pointee.fh = 0
        }
    }

    func release(fileHandle: UInt64) {
        guard fileHandle != 0, let pointer = UnsafeRawPointer(bitPattern: UInt(fileHandle)) else { return }
        Unmanaged<FileReader>.fromOpaque(pointer).release()
    }

    /// Calls `body` with an iovec per piece, each pointing into the piece's storage, which stays
    /// pinned for the duration (one nested `withUnsafeBytes` per piece; a read has a handful).
    private static func withVectors(
        _ pieces: ArraySlice<ArraySlice<UInt8>>, into vectors: inout [iovec], _ body: ([iovec]) -> Void
    ) {
        guard let first = pieces.first else { return body(vectors) }
        first.withUnsafeBytes { raw in
            if !raw.isEmpty {
                vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress), iov_len: raw.count))
            }
            withVectors(pieces.dropFirst(), into: &vectors, body)
        }
    }

    func read(_ request: fuse_req_t, ino: fuse_ino_t, size: Int, offset: off_t, fileHandle: UInt64) {
        do {
            let start = UInt64(max(offset, 0))
            let pieces: [ArraySlice<UInt8>]
            if fileHandle != 0, let pointer = UnsafeRawPointer(bitPattern: UInt(fileHandle)) {
                pieces = try Unmanaged<FileReader>.fromOpaque(pointer).takeUnretainedValue().readPieces(
                    offset: start, length: size)
            } else {
                pieces = try image.readPieces(NodeID(ino), offset: start, length: size)
            }
            // The kernel gathers the block slices itself: no copy into one reply buffer.
            var vectors: [iovec] = []
            vectors.reserveCapacity(pieces.count)
            Self.withVectors(pieces[...], into: &vectors) { vectors in
                _ = fuse_reply_iov(request, vectors, Int32(vectors.count))
            }
        } catch {
            // Name the file: a damaged block is what a user must trace back to a path.
            let file = image.paths(of: NodeID(ino), limit: 1).first.map { "/\($0)" } ?? "inode \(ino)"
            logger.error("read of \(file) at \(offset)+\(size) failed: \(error)")
            fuse_reply_err(request, EIO)
        }
    }

    func opendir(_ request: fuse_req_t, ino: fuse_ino_t, info: UnsafeMutablePointer<fuse_file_info>) {
        guard image.attributes(of: NodeID(ino))?.kind == .directory else {
            fuse_reply_err(request, ENOTDIR)
            return
        }
        info.pointee.keep_cache = 1
        info.pointee.cache_readdir = 1
        fuse_reply_open(request, info)
    }

    /// Offsets: 0 start, 1 after ".", 2 after "..", 2 + n after the n-th entry. A plain readdir
    /// (what the kernel asks for once a walk shows it never stats, `FUSE_CAP_READDIRPLUS_AUTO`)
    /// takes each entry's type from its directory entry and decodes no inode. The kernel always
    /// asks for a directory's first chunk with attributes; unless files were looked up lately
    /// (`statingWalk`), that chunk gives them for subdirectories only (a walk enters those) and
    /// sends files as plain entries (node id 0: the kernel links nothing, builds no inode). A
    /// walk that stats looks up those files, which re-arms full chunks for the next directories.
    func readdir(_ request: fuse_req_t, ino: fuse_ino_t, size: Int, offset: off_t, plus: Bool) {
        let directory = NodeID(ino)
        guard let parent = image.parent(of: directory) else {
            fuse_reply_err(request, ENOTDIR)
            return
        }
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(size, 1))
        defer { buffer.deallocate() }
        var used = 0
        var full = false
        var lean = false
        if plus && offset == 0 {
            let left = statingWalk.load(ordering: .relaxed)
            lean = left == 0
            if left > 0 { statingWalk.store(left - 1, ordering: .relaxed) }
        }

        func add(_ name: UnsafePointer<CChar>, _ id: NodeID, _ kind: NodeKind, _ next: off_t) throws -> Bool {
            let remaining = size - used
            let needed: Int
            if plus && lean && kind != .directory {
                var entry = fuse_entry_param()
                entry.attr.st_ino = ino_t(inodeBase | fuse_ino_t(id))
                entry.attr.st_mode = Self.typeBits(kind)
                needed = fuse_add_direntry_plus(request, buffer + used, remaining, name, &entry, next)
            } else if plus {
                guard var entry = try entryParam(id) else { return true }
                needed = fuse_add_direntry_plus(request, buffer + used, remaining, name, &entry, next)
            } else {
                var info = stat()
                info.st_ino = ino_t(inodeBase | fuse_ino_t(id))
                info.st_mode = Self.typeBits(kind)
                needed = fuse_add_direntry(request, buffer + used, remaining, name, &info, next)
            }
            if needed > remaining {
                full = true
                return false
            }
            used += needed
            return true
        }

        do {
            var position = Int(offset)
            if position == 0 {
                // "." and ".." carry no lookup count in readdirplus; the kernel skips them.
                guard try add(".", directory, .directory, 1) else { return finishReaddir(request, buffer, used) }
                position = 1
            }
            if position == 1 {
                guard try add("..", parent, .directory, 2) else { return finishReaddir(request, buffer, used) }
                position = 2
            }
            try image.loadEntries(of: directory, from: position - 2) { index, name, _, node, kind in
                try add(name, node, kind, off_t(index + 3)) && !full
            }
        } catch {
            return failMetadata(request, ino, error)
        }
        finishReaddir(request, buffer, used)
    }

    /// The st_mode type bits of a kind, which is all a plain readdir reports.
    private static func typeBits(_ kind: NodeKind) -> mode_t {
        switch kind {
        case .directory: return S_IFDIR
        case .regularFile: return S_IFREG
        case .symlink: return S_IFLNK
        case .blockDevice: return S_IFBLK
        case .characterDevice: return S_IFCHR
        case .fifo: return S_IFIFO
        case .socket: return S_IFSOCK
        }
    }

    private func finishReaddir(_ request: fuse_req_t, _ buffer: UnsafeMutablePointer<CChar>, _ used: Int) {
        fuse_reply_buf(request, buffer, used)
    }

    func statfs(_ request: fuse_req_t) {
        var info = statvfs()
        let blockSize = UInt(image.info.blockSize)
        info.f_bsize = blockSize
        info.f_frsize = blockSize
        info.f_blocks = fsblkcnt_t((image.info.bytesUsed + UInt64(blockSize) - 1) / UInt64(blockSize))
        info.f_files = fsfilcnt_t(image.nodeCount)
        info.f_namemax = 256
        info.f_flag = UInt(ST_RDONLY)
        fuse_reply_statfs(request, &info)
    }

    func getxattr(_ request: fuse_req_t, ino: fuse_ino_t, name: UnsafePointer<CChar>, size: Int) {
        // With no xattrs anywhere, ENOSYS tells the kernel to stop asking: `ls -l` would
        // otherwise cost two round trips per entry for ACL and SELinux lookups.
        guard image.hasExtendedAttributes else {
            fuse_reply_err(request, ENOSYS)
            return
        }
        let wanted = String(cString: name)
        guard let attribute = visibleAttributes(of: NodeID(ino)).first(where: { $0.name == wanted }) else {
            fuse_reply_err(request, ENODATA)
            return
        }
        if size == 0 {
            fuse_reply_xattr(request, attribute.value.count)
        } else if size < attribute.value.count {
            fuse_reply_err(request, ERANGE)
        } else {
            attribute.value.withUnsafeBytes { raw in
                _ = fuse_reply_buf(request, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
            }
        }
    }

    /// The entry's xattrs minus overlayfs's own (`trusted.overlay.*`, `user.overlay.*`): a mount
    /// can be the lower layer of a lazy root, and an image must not steer that overlay
    /// (redirects, opaque directories, whiteouts) through xattrs it carries.
    private func visibleAttributes(of id: NodeID) -> [ExtendedAttribute] {
        image.extendedAttributes(of: id).filter {
            !$0.name.hasPrefix("trusted.overlay.") && !$0.name.hasPrefix("user.overlay.")
        }
    }

    func listxattr(_ request: fuse_req_t, ino: fuse_ino_t, size: Int) {
        guard image.hasExtendedAttributes else {
            fuse_reply_err(request, ENOSYS)
            return
        }
        var names = [UInt8]()
        for attribute in visibleAttributes(of: NodeID(ino)) {
            names.append(contentsOf: attribute.name.utf8)
            names.append(0)
        }
        if size == 0 {
            fuse_reply_xattr(request, names.count)
        } else if size < names.count {
            fuse_reply_err(request, ERANGE)
        } else {
            names.withUnsafeBytes { raw in
                _ = fuse_reply_buf(request, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
            }
        }
    }

    func initialize(_ connection: UnsafeMutablePointer<fuse_conn_info>) {
        ConnectionCapabilities.negotiate(connection)
    }
}

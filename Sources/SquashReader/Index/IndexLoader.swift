import CSquashfs
import CSquashfsShims

#if canImport(Glibc)
    import Glibc
#endif

/// Decodes every inode, directory, fragment-table and xattr entry of an image into an
/// `ImageIndex`, through libsquashfs over the in-memory metadata window.
struct IndexLoader {
    let imageName: String
    let superblock: UnsafeMutablePointer<sqfs_super_t>
    let file: UnsafeMutablePointer<sqfs_file_t>
    let compressor: UnsafeMutablePointer<sqfs_compressor_t>

    private static let noXattr = UInt32.max
    static let noFragment = UInt32.max

    func corrupt(_ what: String, _ code: Int32? = nil) -> ImageError {
        .corrupt(image: imageName, reason: code.map { "\(what): \(SquashfsStatus.describe($0))" } ?? what)
    }

    func load() throws -> ImageIndex {
        var index = ImageIndex()
        let blockSize = UInt64(superblock.pointee.block_size)

        guard let idTable = sqfs_id_table_create(0) else { throw corrupt("cannot allocate id table") }
        defer { sqb_destroy(UnsafeMutableRawPointer(idTable)) }
        let status = sqfs_id_table_read(idTable, file, superblock, compressor)
        guard status == 0 else { throw corrupt("id table", status) }

        if superblock.pointee.fragment_entry_count > 0 { index.fragments = try loadFragments() }

        let xattrReader = try openXattrReader()
        defer { if let xattrReader { sqb_destroy(UnsafeMutableRawPointer(xattrReader)) } }

        guard let reader = sqfs_dir_reader_create(superblock, compressor, file, 0) else {
            throw corrupt("cannot allocate directory reader")
        }
        defer { sqb_destroy(UnsafeMutableRawPointer(reader)) }

        let rootInode = try readRootInode(reader)

        var context = Context(index: index, blockSize: blockSize, idTable: idTable, xattrReader: xattrReader)
        let rootID = try context.addNode(rootInode, loader: self)
        context.index.directories[Int(context.index.nodes[0].payload)].parent = rootID
        var pending: [(UInt32, UnsafeMutablePointer<sqfs_inode_generic_t>)] = [(rootID, rootInode)]
        defer { for (_, inode) in pending { sqfs_free(inode) } }

        while let (directoryID, directoryInode) = pending.popLast() {
            defer { sqfs_free(directoryInode) }
            try readDirectory(directoryID, directoryInode, reader: reader, context: &context, pending: &pending)
        }
        return context.index
    }

    /// The fragment table: where each fragment block lies and its size word.
    private func loadFragments() throws -> [ImageIndex.Fragment] {
        guard let fragmentTable = sqfs_frag_table_create(0) else { throw corrupt("cannot allocate fragment table") }
        defer { sqb_destroy(UnsafeMutableRawPointer(fragmentTable)) }
        var status = sqfs_frag_table_read(fragmentTable, file, superblock, compressor)
        guard status == 0 else { throw corrupt("fragment table", status) }
        let count = sqfs_frag_table_get_size(fragmentTable)
        var fragments = [ImageIndex.Fragment]()
        fragments.reserveCapacity(count)
        for position in 0..<count {
            var fragment = sqfs_fragment_t()
            status = sqfs_frag_table_lookup(fragmentTable, UInt32(position), &fragment)
            guard status == 0 else { throw corrupt("fragment \(position)", status) }
            fragments.append(.init(start: fragment.start_offset, word: fragment.size))
        }
        return fragments
    }

    /// A reader of the xattr table, or nil when the image has none; the caller destroys it.
    private func openXattrReader() throws -> OpaquePointer? {
        guard superblock.pointee.xattr_id_table_start != UInt64.max,
            superblock.pointee.flags & UInt16(SQFS_FLAG_NO_XATTRS.rawValue) == 0
        else { return nil }
        guard let xattrReader = sqfs_xattr_reader_create(0) else { throw corrupt("cannot allocate xattr reader") }
        let status = sqfs_xattr_reader_load(xattrReader, superblock, file, compressor)
        guard status == 0 else {
            sqb_destroy(UnsafeMutableRawPointer(xattrReader))
            throw corrupt("xattr table", status)
        }
        return xattrReader
    }

    /// The root directory's inode; the caller frees it.
    private func readRootInode(_ reader: OpaquePointer) throws -> UnsafeMutablePointer<sqfs_inode_generic_t> {
        var rootInode: UnsafeMutablePointer<sqfs_inode_generic_t>?
        let status = sqfs_dir_reader_get_root_inode(reader, &rootInode)
        guard status == 0, let rootInode else { throw corrupt("root inode", status) }
        guard Self.isDirectory(rootInode) else {
            sqfs_free(rootInode)
            throw corrupt("root inode is not a directory")
        }
        return rootInode
    }

    /// Indexes the entries of directory `directoryID`, in byte order, and queues its
    /// subdirectories' inodes on `pending` (whoever pops one frees it).
    private func readDirectory(
        _ directoryID: UInt32, _ directoryInode: UnsafeMutablePointer<sqfs_inode_generic_t>, reader: OpaquePointer,
        context: inout Context, pending: inout [(UInt32, UnsafeMutablePointer<sqfs_inode_generic_t>)]
    ) throws {
        let inodeLimit = Int(superblock.pointee.inode_count)
        var status = sqfs_dir_reader_open_dir(reader, directoryInode, 0)
        guard status == 0 else {
            throw corrupt("directory of inode \(directoryInode.pointee.base.inode_number)", status)
        }
        let firstEntry = UInt32(context.index.entries.count)
        while true {
            var entry: UnsafeMutablePointer<sqfs_dir_entry_t>?
            status = sqfs_dir_reader_read(reader, &entry)
            if status > 0 { break }
            guard status == 0, let entry else { throw corrupt("directory entry", status) }
            defer { sqfs_free(entry) }
            let nameLength = Int(entry.pointee.size) + 1
            let nameBytes = UnsafeBufferPointer(start: sqb_dir_entry_name(entry), count: nameLength)
            if let problem = Self.unsafeNameProblem(nameBytes) {
                let parent = context.path(of: directoryID)
                context.index.rejectedEntries.append(
                    (parent.hasSuffix("/") ? parent : parent + "/")
                        + "\(String(decoding: nameBytes, as: UTF8.self)): \(problem)")
                continue
            }
            var childInode: UnsafeMutablePointer<sqfs_inode_generic_t>?
            status = sqfs_dir_reader_get_inode(reader, &childInode)
            guard status == 0, let childInode else {
                throw corrupt("inode of '\(String(decoding: nameBytes, as: UTF8.self))'", status)
            }
            let childID: UInt32
            let isDirectory = Self.isDirectory(childInode)
            do {
                childID = try context.addNode(childInode, loader: self)
            } catch {
                sqfs_free(childInode)
                throw error
            }
            context.index.entries.append(
                .init(nameStart: UInt32(context.index.names.count), nameLength: UInt32(nameLength), node: childID))
            context.index.names.append(contentsOf: nameBytes)
            context.index.names.append(0)  // NUL-terminated, so FUSE can take names in place
            if isDirectory {
                context.index.directories[Int(context.index.nodes[Int(childID) - 1].payload)].parent = directoryID
                pending.append((childID, childInode))
            } else {
                sqfs_free(childInode)
            }
            if context.index.nodes.count > max(inodeLimit, 1) {
                throw corrupt("more inodes reachable than the superblock's \(inodeLimit)")
            }
        }
        let count = UInt32(context.index.entries.count) - firstEntry
        let directoryIndex = Int(context.index.nodes[Int(directoryID) - 1].payload)
        context.index.directories[directoryIndex].firstEntry = firstEntry
        context.index.directories[directoryIndex].entryCount = count
        context.sortEntries(from: Int(firstEntry), count: Int(count))
    }

    static func isDirectory(_ inode: UnsafeMutablePointer<sqfs_inode_generic_t>) -> Bool {
        let type = Int32(inode.pointee.base.type)
        return type == Int32(SQFS_INODE_DIR.rawValue) || type == Int32(SQFS_INODE_EXT_DIR.rawValue)
    }

    /// Names that would let an entry escape or confuse a path walk are never served.
    static func unsafeNameProblem(_ name: UnsafeBufferPointer<UInt8>) -> String? {
        if name.isEmpty { return "empty name" }
        if name.count == 1 && name[0] == UInt8(ascii: ".") { return "name is '.'" }
        if name.count == 2 && name[0] == UInt8(ascii: ".") && name[1] == UInt8(ascii: ".") { return "name is '..'" }
        if name.contains(UInt8(ascii: "/")) { return "name contains '/'" }
        if name.contains(0) { return "name contains a NUL byte" }
        return nil
    }
}

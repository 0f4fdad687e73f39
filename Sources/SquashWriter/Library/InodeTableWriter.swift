import CSquashfs
import CSquashfsShims

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Writes the inode and directory tables once all data is stored.
///
/// Inodes go out children before parents (a directory's listing needs its children's inode
/// references, and a directory inode needs the listing's location), and numbers follow the same
/// post-order, so the root is last. Entries are added in byte order, which the dir writer doesn't
/// check but every reader relies on.
struct InodeTableWriter {
    let objects: LibraryObjects
    let tree: FileTree
    let data: FileDataWriter

    struct Output {
        var rootReference: UInt64
        var rootNumber: UInt32
        var inodeCount: UInt32
        var counts: [TreeNode.Kind: Int]
        var extraNames: Int
    }

    func write() throws -> Output {
        let order = postOrder()
        var number = [Int: UInt32]()
        for (position, node) in order.enumerated() { number[node] = UInt32(position + 1) }
        var links = [Int: Int]()
        var parent = [Int: Int]()
        var subdirectories = [Int: Int]()
        for node in order where tree.nodes[node].isDirectory {
            for entry in tree.nodes[node].entries where !tree.nodes[entry.node].skipped {
                links[entry.node, default: 0] += 1
                if tree.nodes[entry.node].isDirectory {
                    parent[entry.node] = node
                    subdirectories[node, default: 0] += 1
                }
            }
        }

        var reference = [Int: UInt64]()
        var counts = [TreeNode.Kind: Int]()
        for node in order {
            let item = tree.nodes[node]
            counts[item.kind, default: 0] += 1
            let inode: UnsafeMutablePointer<sqfs_inode_generic_t>
            if item.isDirectory {
                try check(sqfs_dir_writer_begin(objects.directoryWriter, 0), "start a directory")
                for entry in item.entries where !tree.nodes[entry.node].skipped {
                    let child = tree.nodes[entry.node]
                    let code = withCPath(entry.name) { name in
                        sqfs_dir_writer_add_entry(
                            objects.directoryWriter, name, number[entry.node]!, reference[entry.node]!,
                            child.mode)
                    }
                    try check(code, "add \(child.displayPath) to its directory")
                }
                try check(sqfs_dir_writer_end(objects.directoryWriter), "finish a directory")
                let parentNumber = parent[node].map { number[$0]! } ?? UInt32(order.count + 1)
                guard
                    let made = sqfs_dir_writer_create_inode(
                        objects.directoryWriter, 0, try xattrIndex(item), parentNumber)
                else {
                    throw BuildError.library(operation: "create a directory inode", code: SQFS_ERROR_ALLOC.rawValue)
                }
                // libsquashfs counts every entry (ent_count + hlinks + 2); POSIX wants 2 + subdirectories,
                // and `find` relies on it to skip leaf directories.
                let nlink = UInt32(2 + (subdirectories[node] ?? 0))
                if Int32(made.pointee.base.type) == Int32(SQFS_INODE_DIR.rawValue) {
                    made.pointee.data.dir.nlink = nlink
                } else {
                    made.pointee.data.dir_ext.nlink = nlink
                }
                inode = made
            } else {
                inode = try makeInode(node, links: links[node] ?? 1)
            }
            defer { free(inode) }
            inode.pointee.base.mode = item.mode
            inode.pointee.base.uid_idx = try idIndex(item.uid, item)
            inode.pointee.base.gid_idx = try idIndex(item.gid, item)
            inode.pointee.base.mod_time = item.mtime
            inode.pointee.base.inode_number = number[node]!
            var block: UInt64 = 0
            var offset: UInt32 = 0
            sqfs_meta_writer_get_position(objects.inodeWriter, &block, &offset)
            reference[node] = block << 16 | UInt64(offset)
            try check(
                sqfs_meta_writer_write_inode(objects.inodeWriter, inode), "write the inode of \(item.displayPath)")
        }
        let extraNames = links.values.reduce(0) { $0 + max(0, $1 - 1) }
        return Output(
            rootReference: reference[FileTree.root]!, rootNumber: number[FileTree.root]!,
            inodeCount: UInt32(order.count), counts: counts, extraNames: extraNames)
    }

    /// Every kept inode once, children (in entry order) before their directory.
    private func postOrder() -> [Int] {
        var order: [Int] = []
        var seen = Set<Int>()
        var stack: [(node: Int, next: Int)] = [(FileTree.root, 0)]
        while !stack.isEmpty {
            let (directory, next) = stack[stack.count - 1]
            let entries = tree.nodes[directory].entries
            if next == entries.count {
                stack.removeLast()
                order.append(directory)
                continue
            }
            stack[stack.count - 1].next = next + 1
            let child = entries[next].node
            guard !tree.nodes[child].skipped else { continue }
            if tree.nodes[child].isDirectory {
                stack.append((child, 0))
            } else if seen.insert(child).inserted {
                order.append(child)
            }
        }
        return order
    }

    private func check(_ code: Int32, _ operation: String) throws {
        guard code == 0 else { throw objects.bridge.failure ?? BuildError.library(operation: operation, code: code) }
    }

    private func idIndex(_ id: UInt32, _ node: TreeNode) throws -> UInt16 {
        var index: UInt16 = 0
        let code = sqfs_id_table_id_to_index(objects.idTable, id, &index)
        if code == SQFS_ERROR_OVERFLOW.rawValue {
            throw BuildError.tooManyIDs(count: tree.ownerIDs.count, path: node.displayPath)
        }
        try check(code, "record owner \(id)")
        return index
    }

    /// Records the node's xattrs (already sorted by key) and returns their index, or 0xFFFFFFFF for none.
    private func xattrIndex(_ node: TreeNode) throws -> UInt32 {
        guard !node.xattrs.isEmpty else { return 0xFFFF_FFFF }
        try check(sqfs_xattr_writer_begin(objects.xattrWriter, 0), "start xattrs")
        for (key, value) in node.xattrs {
            let code = withCPath(key) { cKey in
                value.withUnsafeBytes { sqfs_xattr_writer_add(objects.xattrWriter, cKey, $0.baseAddress, $0.count) }
            }
            try check(code, "store xattr \(String(decoding: key, as: UTF8.self)) of \(node.displayPath)")
        }
        var index: UInt32 = 0
        try check(sqfs_xattr_writer_end(objects.xattrWriter, &index), "finish xattrs of \(node.displayPath)")
        return index
    }

    /// A malloc'd inode for a non-directory (free with `free`).
    private func makeInode(_ node: Int, links: Int) throws -> UnsafeMutablePointer<sqfs_inode_generic_t> {
        let item = tree.nodes[node]
        let header = MemoryLayout<sqfs_inode_generic_t>.size
        let inode: UnsafeMutablePointer<sqfs_inode_generic_t>
        switch item.kind {
        case .file:
            guard let slot = data.dataSlot[node], let source = data.inode(slot: slot) else {
                throw BuildError.library(
                    operation: "find the data of \(item.displayPath)", code: SQFS_ERROR_INTERNAL.rawValue)
            }
            let size = header + Int(source.pointee.payload_bytes_available)
            inode = calloc(1, size)!.bindMemory(to: sqfs_inode_generic_t.self, capacity: 1)
            memcpy(inode, source, size)
        case .symlink:
            inode = calloc(1, header + item.target.count + 4)!.bindMemory(to: sqfs_inode_generic_t.self, capacity: 1)
            inode.pointee.base.type = UInt16(SQFS_INODE_SLINK.rawValue)
            inode.pointee.payload_bytes_available = UInt32(item.target.count)
            inode.pointee.payload_bytes_used = UInt32(item.target.count)
            inode.pointee.data.slink.nlink = UInt32(links)
            inode.pointee.data.slink.target_size = UInt32(item.target.count)
            item.target.withUnsafeBytes {
                UnsafeMutableRawPointer(sqb_inode_extra_mutable(inode)).copyMemory(
                    from: $0.baseAddress!, byteCount: $0.count)
            }
        case .charDevice, .blockDevice:
            inode = calloc(1, header)!.bindMemory(to: sqfs_inode_generic_t.self, capacity: 1)
            inode.pointee.base.type = UInt16((item.kind == .charDevice ? SQFS_INODE_CDEV : SQFS_INODE_BDEV).rawValue)
            inode.pointee.data.dev.nlink = UInt32(links)
            inode.pointee.data.dev.devno = item.deviceNumber
        case .fifo, .socket:
            inode = calloc(1, header)!.bindMemory(to: sqfs_inode_generic_t.self, capacity: 1)
            inode.pointee.base.type = UInt16((item.kind == .fifo ? SQFS_INODE_FIFO : SQFS_INODE_SOCKET).rawValue)
            inode.pointee.data.ipc.nlink = UInt32(links)
        case .directory:
            preconditionFailure("directories come from the dir writer")
        }
        let xattr = try xattrIndex(item)
        if xattr != 0xFFFF_FFFF { try check(sqfs_inode_set_xattr_index(inode, xattr), "set xattrs") }
        if item.kind == .file {
            // A basic file inode has no link count; more than one link needs the extended form.
            if links > 1 { try check(sqfs_inode_make_extended(inode), "extend a file inode") }
            if inode.pointee.base.type == UInt16(SQFS_INODE_EXT_FILE.rawValue) {
                inode.pointee.data.file_ext.nlink = UInt32(links)
            }
        }
        return inode
    }
}

import CSquashfs
import CSquashfsShims

#if canImport(Glibc)
    import Glibc
#endif

extension IndexLoader {
    /// Mutable state of one load.
    struct Context {
        var index: ImageIndex
        let blockSize: UInt64
        let idTable: OpaquePointer
        let xattrReader: OpaquePointer?
        var hardLinks: [UInt32: UInt32] = [:]  // squashfs inode number -> NodeID
        var seenDirectories: Set<UInt32> = []
        var xattrDone: Set<UInt32> = []

        func path(of node: UInt32) -> String {
            var parts = [String]()
            var current = node
            var guardCount = 0
            while current != 1, guardCount < 4096 {
                guardCount += 1
                let directory = index.directories[Int(index.nodes[Int(current) - 1].payload)]
                let parent = directory.parent
                let parentDirectory = index.directories[Int(index.nodes[Int(parent) - 1].payload)]
                let range =
                    Int(parentDirectory.firstEntry)..<Int(parentDirectory.firstEntry + parentDirectory.entryCount)
                if let entry = index.entries[range].first(where: { $0.node == current }) {
                    let start = Int(entry.nameStart)
                    parts.append(String(decoding: index.names[start..<start + Int(entry.nameLength)], as: UTF8.self))
                }
                current = parent
            }
            return "/" + parts.reversed().joined(separator: "/")
        }

        mutating func sortEntries(from start: Int, count: Int) {
            guard count > 1 else { return }
            let names = index.names
            func less(_ a: ImageIndex.Entry, _ b: ImageIndex.Entry) -> Bool {
                names.withUnsafeBytes { pool in
                    let left = UnsafeRawBufferPointer(
                        rebasing: pool[Int(a.nameStart)..<Int(a.nameStart + a.nameLength)])
                    let right = UnsafeRawBufferPointer(
                        rebasing: pool[Int(b.nameStart)..<Int(b.nameStart + b.nameLength)])
                    return NameOrder.compare(left, right) < 0
                }
            }
            let slice = index.entries[start..<start + count]
            var sorted = true
            for position in slice.indices.dropFirst() where !less(slice[position - 1], slice[position]) {
                sorted = false
                break
            }
            if !sorted { index.entries[start..<start + count].sort(by: less) }
        }

        mutating func addNode(_ inode: UnsafeMutablePointer<sqfs_inode_generic_t>, loader: IndexLoader) throws -> UInt32
        {
            let base = inode.pointee.base
            let number = base.inode_number
            let isDirectory = IndexLoader.isDirectory(inode)
            if isDirectory {
                guard seenDirectories.insert(number).inserted else {
                    throw loader.corrupt("directory inode \(number) is reachable twice (a loop)")
                }
            } else if let existing = hardLinks[number] {
                return existing
            }
            var uid: UInt32 = 0
            var gid: UInt32 = 0
            var status = sqfs_id_table_index_to_id(idTable, base.uid_idx, &uid)
            guard status == 0 else { throw loader.corrupt("uid index \(base.uid_idx) of inode \(number)", status) }
            status = sqfs_id_table_index_to_id(idTable, base.gid_idx, &gid)
            guard status == 0 else { throw loader.corrupt("gid index \(base.gid_idx) of inode \(number)", status) }

            var node = ImageIndex.Node(
                mode: UInt32(base.mode & 0o7777), uid: uid, gid: gid, mtime: base.mod_time, nlink: 1,
                xattrIndex: UInt32.max, size: 0, payload: 0)
            var xattrIndex = UInt32.max
            if sqfs_inode_get_xattr_index(inode, &xattrIndex) == 0 { node.xattrIndex = xattrIndex }

            let data = inode.pointee.data
            switch Int32(base.type) {
            case Int32(SQFS_INODE_DIR.rawValue), Int32(SQFS_INODE_EXT_DIR.rawValue):
                let extended = Int32(base.type) == Int32(SQFS_INODE_EXT_DIR.rawValue)
                node.mode |= UInt32(S_IFDIR)
                node.nlink = extended ? data.dir_ext.nlink : data.dir.nlink
                node.size = UInt64(extended ? data.dir_ext.size : UInt32(data.dir.size))
                node.payload = UInt32(index.directories.count)
                index.directories.append(.init(firstEntry: 0, entryCount: 0, parent: 0))
            case Int32(SQFS_INODE_FILE.rawValue), Int32(SQFS_INODE_EXT_FILE.rawValue):
                try addFileLayout(inode, to: &node, loader: loader)
            case Int32(SQFS_INODE_SLINK.rawValue), Int32(SQFS_INODE_EXT_SLINK.rawValue):
                try addSymlinkTarget(inode, to: &node, loader: loader)
            case Int32(SQFS_INODE_BDEV.rawValue), Int32(SQFS_INODE_EXT_BDEV.rawValue),
                Int32(SQFS_INODE_CDEV.rawValue), Int32(SQFS_INODE_EXT_CDEV.rawValue):
                let type = Int32(base.type)
                let extended =
                    type == Int32(SQFS_INODE_EXT_BDEV.rawValue) || type == Int32(SQFS_INODE_EXT_CDEV.rawValue)
                let block = type == Int32(SQFS_INODE_BDEV.rawValue) || type == Int32(SQFS_INODE_EXT_BDEV.rawValue)
                node.mode |= UInt32(block ? S_IFBLK : S_IFCHR)
                node.nlink = extended ? data.dev_ext.nlink : data.dev.nlink
                node.payload = extended ? data.dev_ext.devno : data.dev.devno
            case Int32(SQFS_INODE_FIFO.rawValue), Int32(SQFS_INODE_EXT_FIFO.rawValue),
                Int32(SQFS_INODE_SOCKET.rawValue), Int32(SQFS_INODE_EXT_SOCKET.rawValue):
                let type = Int32(base.type)
                let extended =
                    type == Int32(SQFS_INODE_EXT_FIFO.rawValue) || type == Int32(SQFS_INODE_EXT_SOCKET.rawValue)
                let fifo = type == Int32(SQFS_INODE_FIFO.rawValue) || type == Int32(SQFS_INODE_EXT_FIFO.rawValue)
                node.mode |= UInt32(fifo ? S_IFIFO : S_IFSOCK)
                node.nlink = extended ? data.ipc_ext.nlink : data.ipc.nlink
            default:
                throw loader.corrupt("inode \(number) has unknown type \(base.type)")
            }
            if node.nlink == 0 { node.nlink = 1 }
            if node.xattrIndex != UInt32.max {
                try loadXattrs(node.xattrIndex, loader: loader)
            }
            index.nodes.append(node)
            let id = UInt32(index.nodes.count)
            if !isDirectory { hardLinks[number] = id }
            return id
        }

        /// Reads a regular file's size, block list and tail fragment into `node` and the index.
        mutating func addFileLayout(
            _ inode: UnsafeMutablePointer<sqfs_inode_generic_t>, to node: inout ImageIndex.Node, loader: IndexLoader
        ) throws {
            let base = inode.pointee.base
            let number = base.inode_number
            let data = inode.pointee.data
            let extended = Int32(base.type) == Int32(SQFS_INODE_EXT_FILE.rawValue)
            node.mode |= UInt32(S_IFREG)
            let start = extended ? data.file_ext.blocks_start : UInt64(data.file.blocks_start)
            node.size = extended ? data.file_ext.file_size : UInt64(data.file.file_size)
            node.nlink = extended ? data.file_ext.nlink : 1
            let fragmentIndex = extended ? data.file_ext.fragment_idx : data.file.fragment_index
            let fragmentOffset = extended ? data.file_ext.fragment_offset : data.file.fragment_offset
            let count = Int(sqfs_inode_get_file_block_count(inode))
            let hasFragment = fragmentIndex != IndexLoader.noFragment
            let expected = hasFragment ? node.size / blockSize : (node.size + blockSize - 1) / blockSize
            guard UInt64(count) == expected else {
                throw loader.corrupt("file inode \(number): \(count) blocks for \(node.size) bytes")
            }
            if hasFragment {
                guard Int(fragmentIndex) < index.fragments.count else {
                    throw loader.corrupt("file inode \(number): fragment \(fragmentIndex) does not exist")
                }
                guard UInt64(fragmentOffset) + node.size % blockSize <= blockSize else {
                    throw loader.corrupt("file inode \(number): fragment offset \(fragmentOffset) out of range")
                }
            }
            let words = UnsafeBufferPointer(start: sqb_inode_extra(inode), count: count)
            let first = UInt32(index.blockOffsets.count)
            var offset = start
            for word in words {
                index.blockOffsets.append(offset)
                index.blockWords.append(word)
                offset += UInt64(word & BlockWord.sizeMask)
            }
            node.payload = UInt32(index.files.count)
            index.files.append(
                .init(
                    firstBlock: first, blockCount: UInt32(count), fragmentIndex: fragmentIndex,
                    fragmentOffset: fragmentOffset))
        }

        /// Reads a symlink's target into `node` and the index.
        mutating func addSymlinkTarget(
            _ inode: UnsafeMutablePointer<sqfs_inode_generic_t>, to node: inout ImageIndex.Node, loader: IndexLoader
        ) throws {
            let base = inode.pointee.base
            let number = base.inode_number
            let data = inode.pointee.data
            let extended = Int32(base.type) == Int32(SQFS_INODE_EXT_SLINK.rawValue)
            node.mode |= UInt32(S_IFLNK)
            let length = Int(extended ? data.slink_ext.target_size : data.slink.target_size)
            node.nlink = extended ? data.slink_ext.nlink : data.slink.nlink
            guard length <= Int(inode.pointee.payload_bytes_used) else {
                throw loader.corrupt("symlink inode \(number): target length \(length) exceeds its inode")
            }
            let raw = UnsafeRawPointer(sqb_inode_extra(inode)!).assumingMemoryBound(to: UInt8.self)
            node.size = UInt64(length)
            node.payload = UInt32(index.symlinkTargets.count)
            index.symlinkTargets.append(Array(UnsafeBufferPointer(start: raw, count: length)))
        }

        mutating func loadXattrs(_ xattrIndex: UInt32, loader: IndexLoader) throws {
            guard xattrDone.insert(xattrIndex).inserted else { return }
            guard let xattrReader else {
                throw loader.corrupt("an inode references xattr set \(xattrIndex) but the image has no xattr table")
            }
            var descriptor = sqfs_xattr_id_t()
            var status = sqfs_xattr_reader_get_desc(xattrReader, xattrIndex, &descriptor)
            guard status == 0 else { throw loader.corrupt("xattr set \(xattrIndex)", status) }
            status = sqfs_xattr_reader_seek_kv(xattrReader, &descriptor)
            guard status == 0 else { throw loader.corrupt("xattr set \(xattrIndex)", status) }
            var attributes = [ExtendedAttribute]()
            for _ in 0..<descriptor.count {
                var key: UnsafeMutablePointer<sqfs_xattr_entry_t>?
                status = sqfs_xattr_reader_read_key(xattrReader, &key)
                guard status == 0, let key else { throw loader.corrupt("xattr key in set \(xattrIndex)", status) }
                defer { sqfs_free(key) }
                var value: UnsafeMutablePointer<sqfs_xattr_value_t>?
                status = sqfs_xattr_reader_read_value(xattrReader, key, &value)
                guard status == 0, let value else { throw loader.corrupt("xattr value in set \(xattrIndex)", status) }
                defer { sqfs_free(value) }
                // libsquashfs returns the key with its prefix restored and NUL-terminated;
                // `size` still counts only the stored suffix.
                let name = String(cString: sqb_xattr_entry_key(key)!)
                let bytes = Array(
                    UnsafeBufferPointer(start: sqb_xattr_value_bytes(value), count: Int(value.pointee.size)))
                attributes.append(ExtendedAttribute(name: name, value: bytes))
            }
            index.xattrs[xattrIndex] = attributes
        }
    }
}

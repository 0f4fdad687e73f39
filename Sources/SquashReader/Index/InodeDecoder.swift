#if canImport(Glibc)
    import Glibc
#endif

/// Decodes inodes from the inode table by reference (metadata block offset << 16 | offset in
/// the block), checking every field a later read relies on: an inode that does not add up is
/// `ImageError.corrupt`, never a crash or a read outside the image.
struct InodeDecoder: Sendable {
    let tables: MetadataTables
    let inodeTableStart: UInt64
    let ids: [UInt32]
    let blockSize: UInt64
    let fragmentCount: Int
    let inodeCount: UInt32

    func decode(_ reference: UInt64) throws -> InodeRecord {
        let block = inodeTableStart + (reference >> 16)
        var cursor = try tables.cursor(block: block, offset: Int(reference & 0xffff))
        let type = try cursor.u16()
        let permissions = UInt32(try cursor.u16() & 0o7777)
        let uidIndex = Int(try cursor.u16())
        let gidIndex = Int(try cursor.u16())
        let mtime = try cursor.u32()
        let number = try cursor.u32()
        guard number >= 1, number <= inodeCount else {
            throw tables.corrupt("inode at \(reference) has number \(number), outside 1...\(inodeCount)")
        }
        guard uidIndex < ids.count, gidIndex < ids.count else {
            throw tables.corrupt("inode \(number) names id index \(max(uidIndex, gidIndex)) of \(ids.count)")
        }
        var record = InodeRecord(
            mode: permissions, uid: ids[uidIndex], gid: ids[gidIndex], mtime: mtime, number: number, nlink: 1,
            size: 0)
        switch type {
        case 1, 8: try decodeDirectory(&cursor, extended: type == 8, into: &record)
        case 2, 9: try decodeFile(&cursor, extended: type == 9, into: &record)
        case 3, 10:
            record.mode |= UInt32(S_IFLNK)
            record.nlink = try cursor.u32()
            let length = Int(try cursor.u32())
            guard length <= 4096 else { throw tables.corrupt("symlink inode \(number): target of \(length) bytes") }
            record.symlinkTarget = try cursor.bytes(length)
            record.size = UInt64(length)
            if type == 10 { record.xattrIndex = try cursor.u32() }
        case 4, 5, 11, 12:
            record.mode |= UInt32(type == 4 || type == 11 ? S_IFBLK : S_IFCHR)
            record.nlink = try cursor.u32()
            record.rdev = try cursor.u32()
            if type > 10 { record.xattrIndex = try cursor.u32() }
        case 6, 7, 13, 14:
            record.mode |= UInt32(type == 6 || type == 13 ? S_IFIFO : S_IFSOCK)
            record.nlink = try cursor.u32()
            if type > 10 { record.xattrIndex = try cursor.u32() }
        default:
            throw tables.corrupt("inode \(number) has unknown type \(type)")
        }
        if record.nlink == 0 { record.nlink = 1 }
        return record
    }

    private func decodeDirectory(_ cursor: inout MetadataCursor, extended: Bool, into record: inout InodeRecord)
        throws
    {
        record.mode |= UInt32(S_IFDIR)
        let block: UInt32
        let offset: UInt16
        let size: UInt32
        let parent: UInt32
        if extended {
            record.nlink = try cursor.u32()
            size = try cursor.u32()
            block = try cursor.u32()
            parent = try cursor.u32()
            _ = try cursor.u16()  // directory index count: lookups search the decoded listing instead
            offset = try cursor.u16()
            record.xattrIndex = try cursor.u32()
        } else {
            block = try cursor.u32()
            record.nlink = try cursor.u32()
            size = UInt32(try cursor.u16())
            offset = try cursor.u16()
            parent = try cursor.u32()
        }
        guard offset < MetadataTables.blockCapacity else {
            throw tables.corrupt("directory inode \(record.number): listing offset \(offset)")
        }
        record.size = UInt64(size)
        // The stored size counts 3 bytes for "." and ".." that are not in the table.
        record.directory = .init(
            block: block, offset: offset, listingSize: size > 3 ? size - 3 : 0, parentNumber: parent)
    }

    private func decodeFile(_ cursor: inout MetadataCursor, extended: Bool, into record: inout InodeRecord) throws {
        record.mode |= UInt32(S_IFREG)
        let start: UInt64
        let fragmentIndex: UInt32
        let fragmentOffset: UInt32
        if extended {
            start = try cursor.u64()
            record.size = try cursor.u64()
            _ = try cursor.u64()  // sparse bytes
            record.nlink = try cursor.u32()
            fragmentIndex = try cursor.u32()
            fragmentOffset = try cursor.u32()
            record.xattrIndex = try cursor.u32()
        } else {
            start = UInt64(try cursor.u32())
            fragmentIndex = try cursor.u32()
            fragmentOffset = try cursor.u32()
            record.size = UInt64(try cursor.u32())
        }
        let number = record.number
        let hasFragment = fragmentIndex != InodeRecord.noFragment
        // A size from a hostile image may be near 2^64: rounded up without overflowing.
        let count = record.size / blockSize + (!hasFragment && record.size % blockSize != 0 ? 1 : 0)
        // Each block has a 4-byte word in the table, and a metadata block of at least 3 stored
        // bytes holds at most 8 KiB of them.
        guard count <= (tables.end - tables.start) / 3 * UInt64(MetadataTables.blockCapacity / 4) else {
            throw tables.corrupt("file inode \(number): \(record.size) bytes cannot be stored in this image")
        }
        if hasFragment {
            guard Int(fragmentIndex) < fragmentCount else {
                throw tables.corrupt("file inode \(number): fragment \(fragmentIndex) does not exist")
            }
            guard UInt64(fragmentOffset) + record.size % blockSize <= blockSize else {
                throw tables.corrupt("file inode \(number): fragment offset \(fragmentOffset) out of range")
            }
        }
        // Grown as read, so that a damaged size runs into the end of the table, not out of memory.
        var words = [UInt32]()
        var offsets = [UInt64]()
        words.reserveCapacity(Int(min(count, 1 << 16)))
        offsets.reserveCapacity(Int(min(count, 1 << 16)) + 1)
        var offset = start
        for _ in 0..<count {
            let word = try cursor.u32()
            words.append(word)
            offsets.append(offset)
            let (next, overflow) = offset.addingReportingOverflow(UInt64(word & BlockWord.sizeMask))
            guard !overflow else { throw tables.corrupt("file inode \(number): data offsets overflow") }
            offset = next
        }
        offsets.append(offset)
        guard offset <= tables.start else {
            throw tables.corrupt("file inode \(number): data runs past the start of the metadata tables")
        }
        record.file = .init(
            offsets: offsets, words: words, fragmentIndex: fragmentIndex, fragmentOffset: fragmentOffset)
    }
}

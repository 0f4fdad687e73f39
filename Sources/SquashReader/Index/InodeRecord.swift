#if canImport(Glibc)
    import Glibc
#endif

/// One inode decoded from the inode table: what `stat` needs, plus where a directory's listing
/// or a file's data lives. Decoded on demand and kept in a bounded cache.
struct InodeRecord: Sendable {
    /// Full st_mode, type bits included.
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
    var mtime: UInt32
    /// The squashfs inode number (unique per inode; hard links share it).
    var number: UInt32
    var nlink: UInt32
    var size: UInt64
    var xattrIndex: UInt32 = InodeRecord.noXattr
    /// Device number of a block or character device.
    var rdev: UInt32 = 0
    var directory: DirectoryLocation?
    var file: FileLayout?
    var symlinkTarget: [UInt8]?

    static let noXattr = UInt32.max
    static let noFragment = UInt32.max

    var kind: NodeKind { NodeKind(mode: mode) }

    /// Where a directory's listing starts in the directory table, and its parent.
    struct DirectoryLocation: Sendable {
        /// Offset of the listing's first metadata block, relative to the directory table.
        var block: UInt32
        var offset: UInt16
        /// Bytes of listing (the stored size less the 3 that count "." and "..").
        var listingSize: UInt32
        var parentNumber: UInt32
    }

    /// Where a regular file's data blocks and tail fragment are.
    struct FileLayout: Sendable {
        /// Image offset of each data block, then one past the last (so `offsets.count == words.count + 1`).
        var offsets: [UInt64]
        var words: [UInt32]
        var fragmentIndex: UInt32
        var fragmentOffset: UInt32

        var blockCount: Int { words.count }
        var hasFragment: Bool { fragmentIndex != InodeRecord.noFragment }
    }

    /// Rough bytes held, for the cache's bound.
    var cost: Int { 96 + (file.map { $0.words.count * 12 } ?? 0) + (symlinkTarget?.count ?? 0) }

    func attributes(id: NodeID) -> NodeAttributes {
        NodeAttributes(id: id, mode: mode, uid: uid, gid: gid, mtime: mtime, nlink: nlink, size: size, rdev: rdev)
    }
}

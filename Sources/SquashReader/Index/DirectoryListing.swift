/// The entries of one directory decoded from the directory table, sorted in byte order so that
/// a lookup is a binary search. Names are NUL-terminated in one pool, so FUSE can take them in
/// place. Each entry keeps its inode's reference, so stat-ing it needs no other table.
struct DirectoryListing: Sendable {
    struct Entry: Sendable {
        var nameStart: UInt32
        var nameLength: UInt32
        var number: UInt32
        /// The directory entry's own type (1 directory, 2 file, 3 symlink, …; 8–14 extended), which
        /// a plain readdir reports without decoding the inode.
        var type: UInt16
        var reference: UInt64
    }

    var entries: [Entry] = []
    var names: [UInt8] = []
    /// Names left out because they are unsafe to serve, with the reason.
    var rejected: [(name: [UInt8], problem: String)] = []

    var cost: Int { 64 + entries.count * MemoryLayout<Entry>.stride + names.count }

    /// The position of `name`, by binary search.
    func find(_ name: UnsafeRawBufferPointer) -> Int? {
        names.withUnsafeBytes { pool -> Int? in
            var low = 0
            var high = entries.count
            while low < high {
                let middle = (low + high) / 2
                let entry = entries[middle]
                let candidate = UnsafeRawBufferPointer(
                    rebasing: pool[Int(entry.nameStart)..<Int(entry.nameStart + entry.nameLength)])
                let order = NameOrder.compare(candidate, name)
                if order == 0 { return middle }
                if order < 0 { low = middle + 1 } else { high = middle }
            }
            return nil
        }
    }

    func name(at position: Int) -> [UInt8] {
        let entry = entries[position]
        return Array(names[Int(entry.nameStart)..<Int(entry.nameStart + entry.nameLength)])
    }

    /// The kind a directory entry's type stands for.
    static func kind(ofType type: UInt16) -> NodeKind? {
        switch type {
        case 1, 8: return .directory
        case 2, 9: return .regularFile
        case 3, 10: return .symlink
        case 4, 11: return .blockDevice
        case 5, 12: return .characterDevice
        case 6, 13: return .fifo
        case 7, 14: return .socket
        default: return nil
        }
    }
}

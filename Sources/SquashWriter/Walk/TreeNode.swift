/// One inode found by the scan; hard links share a node, directories own their sorted entries.
struct TreeNode {
    enum Kind: UInt8 {
        case directory, file, symlink, charDevice, blockDevice, fifo, socket
    }

    /// A name in a directory and the node it refers to.
    struct Entry {
        var name: [UInt8]
        var node: Int
    }

    var kind: Kind
    /// Absolute path of the first name found for this inode, without a trailing NUL.
    var path: [UInt8]
    /// `st_mode` (type and permission bits).
    var mode: UInt16
    var uid: UInt32
    var gid: UInt32
    var mtime: UInt32
    var size: UInt64
    var device: UInt64
    var inode: UInt64
    /// squashfs device number (`new_encode_dev`) for device nodes.
    var deviceNumber: UInt32 = 0
    var target: [UInt8] = []
    /// Sorted by key, filtered to the prefixes squashfs can hold.
    var xattrs: [(key: [UInt8], value: [UInt8])] = []
    /// Directories: entries sorted by byte order (strcmp), as squashfs requires.
    var entries: [Entry] = []
    /// Left out after the scan (vanished, or unreadable with `skipUnreadable`).
    var skipped = false

    var displayPath: String { String(decoding: path, as: UTF8.self) }

    var isDirectory: Bool { kind == .directory }
}

/// The whole directory tree of an image, decoded once at open and immutable afterwards, so
/// that lookups, listings and attribute queries are memory reads shared by all threads.
struct ImageIndex: Sendable {
    struct Node: Sendable {
        var mode: UInt32  // full st_mode, type bits included
        var uid: UInt32
        var gid: UInt32
        var mtime: UInt32
        var nlink: UInt32
        var xattrIndex: UInt32  // UInt32.max: none
        var size: UInt64
        /// Directory: index into `directories`; file: into `files`; symlink: into `symlinks`; device: devno.
        var payload: UInt32
    }

    struct Directory: Sendable {
        var firstEntry: UInt32
        var entryCount: UInt32
        var parent: UInt32
    }

    struct Entry: Sendable {
        var nameStart: UInt32
        var nameLength: UInt32
        var node: UInt32
    }

    struct FileLayout: Sendable {
        var firstBlock: UInt32  // index into blockOffsets / blockWords
        var blockCount: UInt32
        var fragmentIndex: UInt32  // UInt32.max: no tail fragment
        var fragmentOffset: UInt32
    }

    struct Fragment: Sendable {
        var start: UInt64
        var word: UInt32
    }

    var nodes: [Node] = []  // NodeID n is nodes[n - 1]; the root is 1
    var directories: [Directory] = []
    var entries: [Entry] = []
    var names: [UInt8] = []
    var files: [FileLayout] = []
    var blockOffsets: [UInt64] = []
    var blockWords: [UInt32] = []
    var fragments: [Fragment] = []
    var symlinkTargets: [[UInt8]] = []
    var xattrs: [UInt32: [ExtendedAttribute]] = [:]
    /// Entries left out because their names are unsafe ("", ".", "..", containing "/" or NUL).
    var rejectedEntries: [String] = []
}

/// One extended attribute of an entry, with its full name ("user.comment").
public struct ExtendedAttribute: Sendable, Hashable {
    public var name: String
    public var value: [UInt8]
}

/// A directory or symlink of the browser's own (not inside an image).
enum BrowserNode: Hashable, Sendable {
    case root
    case byID
    case byDate
    case bySandbox
    /// by-date/<day>
    case day(String)
    /// by-sandbox/<sandbox>
    case sandbox(String)
    /// A symlink at `path` (relative to the mountpoint) pointing at `target`. Its inode number is
    /// keyed by both, so a link that now points elsewhere (latest) is a new inode and the
    /// kernel's cached target of the old one is never served for it.
    case symlink(path: String, target: String)

    var isDirectory: Bool {
        if case .symlink = self { return false }
        return true
    }

    /// The directory holding this one (the root is its own parent).
    var parent: BrowserNode {
        switch self {
        case .root, .byID, .byDate, .bySandbox: return .root
        case .day: return .byDate
        case .sandbox: return .bySandbox
        case .symlink: return .root
        }
    }
}

/// What a name in one of the browser's directories leads to.
enum BrowserChild: Sendable {
    case node(BrowserNode)
    /// by-id/<id>: the root of that backup's image.
    case backup(String)
}

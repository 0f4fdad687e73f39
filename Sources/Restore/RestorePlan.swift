import SquashReader

/// The work a tree walk leaves for later phases: file data to copy in image order, hard links to
/// make once their first name exists, and directories whose metadata is set last, bottom-up.
struct RestorePlan: Sendable {
    /// A directory of the snapshot, reachable from the target root through `parent` links.
    struct Directory: Sendable {
        var parent: Int?
        var name: [UInt8]
        var node: NodeID
    }

    /// A regular file whose contents must be written.
    struct FileCopy: Sendable {
        var directory: Int
        var name: [UInt8]
        var node: NodeID
        /// Where its data starts in the image: the copy order.
        var order: UInt64
    }

    /// A further name of an entry already restored under `primary`.
    struct Link: Sendable {
        var directory: Int
        var name: [UInt8]
        var node: NodeID
        var primary: (directory: Int, name: [UInt8])
    }

    /// An entry of the target the snapshot does not have, removed last: a restore stopped before
    /// then has taken nothing away.
    struct Extra: Sendable {
        var directory: Int
        var name: [UInt8]
    }

    /// Pre-order: a parent always comes before its children. Index 0 is the root.
    var directories: [Directory] = []
    var copies: [FileCopy] = []
    var links: [Link] = []
    var extras: [Extra] = []
    /// Directories walked so far.
    var entered: Set<NodeID> = [SquashImage.rootID]

    /// The names leading from the root to directory `index`.
    func components(of index: Int) -> [[UInt8]] {
        var names = [[UInt8]]()
        var current: Int? = index
        while let at = current, let parent = directories[at].parent {
            names.append(directories[at].name)
            current = parent
        }
        return names.reversed()
    }
}

/// The scanned tree: nodes by index (0 is the root) plus the totals the build needs up front.
struct FileTree {
    var nodes: [TreeNode] = []
    var warnings: [BuildWarning] = []
    /// Distinct uids and gids, for the id table limit.
    var ownerIDs: Set<UInt32> = []
    var newestMtime: UInt32 = 0

    static let root = 0

    /// Regular files in data order: pre-order over sorted entries, each inode at its first name.
    func filesInDataOrder() -> [Int] {
        var order: [Int] = []
        var seen = Set<Int>()
        var stack = [FileTree.root]
        while let directory = stack.popLast() {
            var subdirectories: [Int] = []
            for entry in nodes[directory].entries {
                let node = nodes[entry.node]
                if node.kind == .file {
                    if seen.insert(entry.node).inserted { order.append(entry.node) }
                } else if node.kind == .directory {
                    subdirectories.append(entry.node)
                }
            }
            stack.append(contentsOf: subdirectories.reversed())
        }
        return order
    }
}

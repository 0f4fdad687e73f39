/// Opens directories of a restore plan by keeping the handles of the last one's ancestors: the
/// next directory asked for (the next file's, a sibling, a parent) usually shares most of that
/// chain, so it costs one `openat` or none instead of one per path component from the root.
/// Holds at most one handle per level of depth; one chain per thread.
struct DirectoryChain {
    private let root: DirectoryHandle
    /// (plan index, handle) from the root's child down to the directory opened last.
    private var chain: [(index: Int, handle: DirectoryHandle)] = []

    init(root: DirectoryHandle) {
        self.root = root
    }

    /// The handle of directory `index` of `plan`, opened one no-follow step at a time below the
    /// deepest ancestor still held.
    mutating func open(_ index: Int, _ plan: RestorePlan) throws -> DirectoryHandle {
        if let last = chain.last, last.index == index { return last.handle }
        var path = [Int]()
        var current: Int? = index
        while let at = current, let parent = plan.directories[at].parent {
            path.append(at)
            current = parent
        }
        if path.isEmpty { return root }
        path.reverse()
        var kept = 0
        while kept < min(path.count, chain.count) && chain[kept].index == path[kept] { kept += 1 }
        chain.removeSubrange(kept...)
        var handle = chain.last?.handle ?? root
        for step in path[kept...] {
            handle = try handle.child(plan.directories[step].name)
            chain.append((step, handle))
        }
        return handle
    }
}

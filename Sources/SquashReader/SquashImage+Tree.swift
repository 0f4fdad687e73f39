#if canImport(Glibc)
    import Glibc
#endif

// The directory tree, served from the in-memory index.
extension SquashImage {
    /// Number of distinct entries (hard links count once).
    public var nodeCount: Int { index.nodes.count }

    /// Entries the image holds under names that are unsafe to serve, with the reason; they are hidden.
    public var rejectedEntries: [String] { index.rejectedEntries }

    public func attributes(of id: NodeID) -> NodeAttributes? {
        guard let node = node(id) else { return nil }
        let kind = NodeKind(mode: node.mode)
        return NodeAttributes(
            id: id, mode: node.mode, uid: node.uid, gid: node.gid, mtime: node.mtime, nlink: node.nlink,
            size: node.size, rdev: kind == .blockDevice || kind == .characterDevice ? node.payload : 0)
    }

    private func directory(_ id: NodeID) -> ImageIndex.Directory? {
        guard let node = node(id), node.mode & UInt32(S_IFMT) == UInt32(S_IFDIR) else { return nil }
        return index.directories[Int(node.payload)]
    }

    /// The directory containing `id` (the root is its own parent).
    public func parent(of id: NodeID) -> NodeID? { directory(id).map { $0.parent } }

    /// Number of entries in a directory, not counting "." and "..".
    public func entryCount(of id: NodeID) -> Int? { directory(id).map { Int($0.entryCount) } }

    /// Finds `name` in directory `parent` by binary search over its byte-ordered entries.
    public func lookup(_ name: UnsafeRawBufferPointer, in parent: NodeID) -> NodeID? {
        guard let directory = directory(parent) else { return nil }
        return index.names.withUnsafeBytes { pool -> NodeID? in
            var low = Int(directory.firstEntry)
            var high = low + Int(directory.entryCount)
            while low < high {
                let middle = (low + high) / 2
                let entry = index.entries[middle]
                let candidate = UnsafeRawBufferPointer(
                    rebasing: pool[Int(entry.nameStart)..<Int(entry.nameStart + entry.nameLength)])
                let order = NameOrder.compare(candidate, name)
                if order == 0 { return entry.node }
                if order < 0 { low = middle + 1 } else { high = middle }
            }
            return nil
        }
    }

    public func lookup(_ name: String, in parent: NodeID) -> NodeID? {
        var name = name
        return name.withUTF8 { lookup(UnsafeRawBufferPointer($0), in: parent) }
    }

    /// Resolves a slash-separated path from the root without following symlinks.
    public func resolve(_ path: String) -> NodeID? {
        var current = Self.rootID
        for component in path.split(separator: "/") where component != "." {
            if component == ".." {
                current = parent(of: current) ?? current
                continue
            }
            guard let next = lookup(String(component), in: current) else { return nil }
            current = next
        }
        return current
    }

    /// Calls `body` for the entries of directory `id` from position `start`, with each name as a
    /// NUL-terminated C string valid only during the call; stops when `body` returns false.
    public func forEachEntry(
        of id: NodeID, from start: Int = 0,
        _ body: (_ position: Int, _ name: UnsafePointer<CChar>, _ nameLength: Int, _ node: NodeID) -> Bool
    ) {
        guard let directory = directory(id), start < Int(directory.entryCount) else { return }
        index.names.withUnsafeBytes { pool in
            let base = pool.baseAddress!.assumingMemoryBound(to: CChar.self)
            for position in start..<Int(directory.entryCount) {
                let entry = index.entries[Int(directory.firstEntry) + position]
                if !body(position, base + Int(entry.nameStart), Int(entry.nameLength), entry.node) { break }
            }
        }
    }

    /// The entries of a directory as (name bytes, node), in byte order.
    public func entries(of id: NodeID) -> [(name: [UInt8], node: NodeID)] {
        var result = [(name: [UInt8], node: NodeID)]()
        forEachEntry(of: id) { _, name, length, node in
            result.append((Array(UnsafeRawBufferPointer(start: name, count: length)), node))
            return true
        }
        return result
    }

    /// The paths that name `id` (a file with hard links has several), relative to the root, found
    /// by walking the whole tree: for messages about one file, not for hot paths.
    public func paths(of id: NodeID, limit: Int = 4) -> [String] {
        var found: [String] = []
        var pending: [(NodeID, String)] = [(Self.rootID, "")]
        while let (directory, prefix) = pending.popLast(), found.count < limit {
            for (name, node) in entries(of: directory) {
                let path = prefix + String(decoding: name, as: UTF8.self)
                if node == id { found.append(path) }
                if attributes(of: node)?.kind == .directory { pending.append((node, path + "/")) }
            }
        }
        return found.sorted()
    }

    /// The target of a symlink, as stored (bytes, not necessarily UTF-8).
    public func symlinkTarget(of id: NodeID) -> [UInt8]? {
        guard let node = node(id), NodeKind(mode: node.mode) == .symlink else { return nil }
        return index.symlinkTargets[Int(node.payload)]
    }

    /// Whether any entry has extended attributes.
    public var hasExtendedAttributes: Bool { !index.xattrs.isEmpty }

    public func extendedAttributes(of id: NodeID) -> [ExtendedAttribute] {
        guard let node = node(id), node.xattrIndex != UInt32.max else { return [] }
        return index.xattrs[node.xattrIndex] ?? []
    }

    /// The index entry of node `id`, or nil when there is no such node.
    func node(_ id: NodeID) -> ImageIndex.Node? {
        guard id >= 1, Int(id) <= index.nodes.count else { return nil }
        return index.nodes[Int(id) - 1]
    }
}

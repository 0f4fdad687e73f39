#if canImport(Glibc)
    import Glibc
#endif

// The directory tree, decoded on demand by the index. The non-throwing calls answer a node
// whose metadata does not decode as if it did not exist; the `load…` calls say why.
extension SquashImage {
    /// Number of inodes the image holds (hard links count once).
    public var nodeCount: Int { Int(index.nodes.inodeCount) }

    /// Entries the image holds under names that are unsafe to serve, with the reason; they are
    /// hidden. Found as directories are read: complete once every directory has been listed.
    public var rejectedEntries: [String] { index.rejectedEntries }

    public func attributes(of id: NodeID) -> NodeAttributes? { try? loadAttributes(of: id) }

    /// The attributes of node `id`; nil when no listing named it, `ImageError.corrupt` when its
    /// inode does not decode.
    public func loadAttributes(of id: NodeID) throws -> NodeAttributes? {
        try index.record(id).map { $0.attributes(id: id) }
    }

    /// The directory containing `id` (the root is its own parent).
    public func parent(of id: NodeID) -> NodeID? {
        guard let record = try? index.record(id), let directory = record.directory else { return nil }
        if id == Self.rootID { return Self.rootID }
        let number = directory.parentNumber
        guard number >= 1, number <= index.nodes.inodeCount else { return Self.rootID }
        return index.nodes.id(ofNumber: number)
    }

    /// Number of entries in a directory, not counting "." and "..".
    public func entryCount(of id: NodeID) -> Int? { (try? index.listing(id))??.entries.count }

    /// Finds `name` in directory `parent` by binary search over its byte-ordered entries.
    public func lookup(_ name: UnsafeRawBufferPointer, in parent: NodeID) -> NodeID? {
        try? loadLookup(name, in: parent)
    }

    /// `lookup` that says why a directory could not be read.
    public func loadLookup(_ name: UnsafeRawBufferPointer, in parent: NodeID) throws -> NodeID? {
        guard let listing = try index.listing(parent), let position = listing.find(name) else { return nil }
        return index.id(of: listing.entries[position])
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
        try? loadEntries(of: id, from: start) { position, name, length, node, _ in body(position, name, length, node) }
    }

    /// `forEachEntry` that also gives each entry's kind as its directory entry states it (no
    /// inode decoded), and throws `ImageError.corrupt` when the listing does not decode.
    public func loadEntries(
        of id: NodeID, from start: Int = 0,
        _ body: (_ position: Int, _ name: UnsafePointer<CChar>, _ nameLength: Int, _ node: NodeID, _ kind: NodeKind)
            throws -> Bool
    ) throws {
        guard let listing = try index.listing(id), start < listing.entries.count else { return }
        try listing.names.withUnsafeBytes { pool in
            let base = pool.baseAddress!.assumingMemoryBound(to: CChar.self)
            for position in start..<listing.entries.count {
                let entry = listing.entries[position]
                let kind = DirectoryListing.kind(ofType: entry.type) ?? .regularFile
                if try !body(position, base + Int(entry.nameStart), Int(entry.nameLength), index.id(of: entry), kind) {
                    break
                }
            }
        }
    }

    /// The entries of a directory as (name bytes, node), in byte order.
    public func entries(of id: NodeID) -> [(name: [UInt8], node: NodeID)] { (try? loadEntries(of: id)) ?? [] }

    /// `entries(of:)` that throws `ImageError.corrupt` when the listing does not decode.
    public func loadEntries(of id: NodeID) throws -> [(name: [UInt8], node: NodeID)] {
        guard let listing = try index.listing(id) else { return [] }
        return listing.entries.indices.map { (listing.name(at: $0), index.id(of: listing.entries[$0])) }
    }

    /// The paths that name `id` (a file with hard links has several), relative to the root, found
    /// by walking the whole tree: for messages about one file, not for hot paths.
    public func paths(of id: NodeID, limit: Int = 4) -> [String] {
        var found: [String] = []
        var pending: [(NodeID, String)] = [(Self.rootID, "")]
        var entered = Set<NodeID>([Self.rootID])
        while let (directory, prefix) = pending.popLast(), found.count < limit {
            guard let listing = try? index.listing(directory) else { continue }
            for position in listing.entries.indices {
                let entry = listing.entries[position]
                let node = index.id(of: entry)
                let path = prefix + String(decoding: listing.name(at: position), as: UTF8.self)
                if node == id { found.append(path) }
                if DirectoryListing.kind(ofType: entry.type) == .directory, entered.insert(node).inserted {
                    pending.append((node, path + "/"))
                }
            }
        }
        return found.sorted()
    }

    /// The target of a symlink, as stored (bytes, not necessarily UTF-8).
    public func symlinkTarget(of id: NodeID) -> [UInt8]? { (try? index.record(id))??.symlinkTarget }

    /// Whether any entry may have extended attributes (the image has a non-empty xattr table).
    public var hasExtendedAttributes: Bool { (index.xattrs?.setCount ?? 0) > 0 }

    public func extendedAttributes(of id: NodeID) -> [ExtendedAttribute] {
        (try? loadExtendedAttributes(of: id)) ?? []
    }

    /// `extendedAttributes(of:)` that throws `ImageError.corrupt` when they do not decode.
    public func loadExtendedAttributes(of id: NodeID) throws -> [ExtendedAttribute] {
        guard let record = try index.record(id), record.xattrIndex != InodeRecord.noXattr else { return [] }
        guard let xattrs = index.xattrs else {
            throw ImageError.corrupt(
                image: source.displayName,
                reason:
                    "inode \(record.number) references xattr set \(record.xattrIndex) but the image has no xattr table")
        }
        return try xattrs.attributes(record.xattrIndex)
    }
}

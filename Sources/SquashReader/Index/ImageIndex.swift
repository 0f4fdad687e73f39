import CSquashfs
import Synchronization

/// The directory tree of an image, decoded on demand from the compressed inode and directory
/// tables fetched at open: opening costs the small tables (ids, fragments) and the root inode,
/// not a pass over every entry, and memory is the compressed tables plus bounded caches of
/// decompressed metadata blocks, inodes and listings, plus at most 8 bytes per entry seen.
final class ImageIndex: Sendable {
    struct Fragment: Sendable {
        var start: UInt64
        var word: UInt32
    }

    let tables: MetadataTables
    let inodes: InodeDecoder
    let directoryTableStart: UInt64
    let nodes: NodeTable
    let fragments: [Fragment]
    let xattrs: XattrStore?
    private let inodeCache: BoundedCache<InodeRecord>
    private let listingCache: BoundedCache<DirectoryListing>
    /// Unsafe names met so far (directory inode numbers already reported, and the messages).
    private let rejectedEntryHandler: (@Sendable (String) -> Void)?
    private let rejections = Mutex<(directories: Set<UInt32>, messages: [String])>(([], []))
    /// Held while ids are discovered by a walk; true once a walk has listed every directory.
    private let discovery = Mutex(false)

    init(
        superblock sb: sqfs_super_t, tables: MetadataTables, ids: [UInt32], fragments: [Fragment],
        xattrs: XattrStore?, cacheBytes: Int, rejectedEntryHandler: (@Sendable (String) -> Void)? = nil
    ) throws {
        self.rejectedEntryHandler = rejectedEntryHandler
        self.tables = tables
        self.fragments = fragments
        self.xattrs = xattrs
        directoryTableStart = sb.directory_table_start
        inodes = InodeDecoder(
            tables: tables, inodeTableStart: sb.inode_table_start, ids: ids, blockSize: UInt64(sb.block_size),
            fragmentCount: fragments.count, inodeCount: sb.inode_count)
        // Most of the budget goes to decompressed blocks; decoded inodes and listings are a
        // quicker second level for what FUSE asks for again and again.
        inodeCache = BoundedCache(capacity: max(cacheBytes / 2, 1 << 16))
        listingCache = BoundedCache(capacity: max(cacheBytes / 2, 1 << 16))
        let root = try inodes.decode(sb.root_inode_ref)
        guard root.directory != nil else { throw tables.corrupt("the root inode is not a directory") }
        guard
            let nodes = NodeTable(inodeCount: sb.inode_count, rootNumber: root.number, rootReference: sb.root_inode_ref)
        else { throw tables.corrupt("out of memory for \(sb.inode_count) inodes") }
        self.nodes = nodes
    }

    /// The inode at `reference`, from the cache or decoded.
    func record(at reference: UInt64) throws -> InodeRecord {
        try inodeCache.value(reference) {
            let record = try inodes.decode(reference)
            return (record, record.cost)
        }
    }

    /// The inode of node `id`; nil for an id no entry of the image names.
    func record(_ id: NodeID) throws -> InodeRecord? {
        guard let reference = try nodes.reference(of: id) ?? discover(id) else { return nil }
        let record = try record(at: reference)
        guard nodes.id(ofNumber: record.number) == id else {
            throw tables.corrupt(
                "inode \(reference >> 16):\(reference & 0xffff) has number \(record.number), its entry says \(id)")
        }
        return record
    }

    /// The listing of directory `id`; nil when `id` names no directory.
    func listing(_ id: NodeID) throws -> DirectoryListing? {
        guard let record = try record(id), let location = record.directory else { return nil }
        return try listingCache.value(UInt64(id)) {
            let listing = try DirectoryListing(
                decoding: location, of: record.number, tables: tables, directoryTableStart: directoryTableStart)
            for entry in listing.entries {
                guard entry.number != nodes.rootNumber else {
                    throw tables.corrupt("directory inode \(record.number) lists the root directory")
                }
                guard nodes.record(number: entry.number, reference: entry.reference) else {
                    throw tables.corrupt(
                        "directory inode \(record.number) lists inode number \(entry.number) at a second place")
                }
            }
            if !listing.rejected.isEmpty { noteRejected(listing, of: id, number: record.number) }
            return (listing, listing.cost)
        }
    }

    /// Finds where node `id` lives by listing directories from the root until an entry names it.
    /// FUSE only sends ids it was handed, so this runs when an image was opened again under ids a
    /// previous instance handed out (`mount --all` closes idle images while the kernel keeps their
    /// inodes): once per such image at most, as the whole walk leaves every id known.
    private func discover(_ id: NodeID) throws -> UInt64? {
        guard nodes.number(of: id) != nil else { return nil }
        return try discovery.withLock { walked -> UInt64? in
            if let known = nodes.reference(of: id) { return known }
            guard !walked else { return nil }
            var pending: [NodeID] = [1]
            // A hostile image may list a directory under two parents: each is listed once.
            var seen: Set<NodeID> = []
            while let directory = pending.popLast() {
                guard seen.insert(directory).inserted, let listing = try listing(directory) else { continue }
                for entry in listing.entries where entry.type == 1 || entry.type == 8 {
                    pending.append(nodes.id(ofNumber: entry.number))
                }
                if let known = nodes.reference(of: id) { return known }
            }
            walked = true
            return nil
        }
    }

    /// The node id of a listing's entry.
    func id(of entry: DirectoryListing.Entry) -> NodeID { nodes.id(ofNumber: entry.number) }

    /// Unsafe names met so far: every one once the whole tree has been listed (as a restore does).
    var rejectedEntries: [String] { rejections.withLock { $0.messages } }

    private func noteRejected(_ listing: DirectoryListing, of id: NodeID, number: UInt32) {
        guard rejections.withLock({ $0.directories.insert(number).inserted }) else { return }
        let parent = path(of: id)
        let messages = listing.rejected.map {
            (parent.hasSuffix("/") ? parent : parent + "/")
                + "\(String(decoding: $0.name, as: UTF8.self)): \($0.problem)"
        }
        rejections.withLock { $0.messages += messages }
        if let rejectedEntryHandler { messages.forEach(rejectedEntryHandler) }
    }

    /// The path of directory `id`, following parent numbers up and finding each name in its
    /// parent's listing: for messages only.
    func path(of id: NodeID) -> String {
        var parts = [String]()
        var current = id
        while current != 1, parts.count < 4096 {
            guard let record = try? record(current), let parentNumber = record.directory?.parentNumber,
                parentNumber >= 1, parentNumber <= nodes.inodeCount
            else { break }
            let parent = nodes.id(ofNumber: parentNumber)
            // Only parents already known: finding one would be a walk, and this may run inside
            // the walk of `discover`, under its lock.
            guard nodes.reference(of: parent) != nil,
                let listing = try? listingCache.get(UInt64(parent)) ?? self.listing(parent),
                let position = listing.entries.firstIndex(where: { $0.number == record.number })
            else { break }
            parts.append(String(decoding: listing.name(at: position), as: UTF8.self))
            current = parent
        }
        return "/" + parts.reversed().joined(separator: "/")
    }
}

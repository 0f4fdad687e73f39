import CSquashfs
import CSquashfsShims
import Storage

#if canImport(Glibc)
    import Glibc
#endif

/// An opened squashfs image: its whole tree indexed in memory, file data read on demand
/// through a shared block cache from any `RangeSource`. Safe to use from many threads.
public final class SquashImage: Sendable {
    public let info: ImageInfo
    public let statistics = ReaderStatistics()
    public let source: any RangeSource
    private let index: ImageIndex
    private let fetcher: BlockFetcher
    private let readahead: (initial: Int, maximum: Int)
    private let readaheadBudget: ReadaheadBudget

    /// The root directory's id.
    public static let rootID: NodeID = 1

    /// Opens the image in `source`: one read of the head, one of the metadata tail, then the
    /// directory tree is decoded in memory.
    public static func open(_ source: any RangeSource, options: ReaderOptions = ReaderOptions()) throws -> SquashImage {
        try SquashImage(source: source, options: options)
    }

    private init(source: any RangeSource, options: ReaderOptions) throws {
        self.source = source
        let name = source.displayName
        let superblockSize: UInt64 = 96
        guard source.size >= superblockSize else {
            throw ImageError.notSquashfs(image: name, reason: "\(source.size) bytes is smaller than a superblock")
        }
        let window: MetadataWindow
        do {
            window = try MetadataWindow(source: source, headLength: Int(min(source.size, UInt64(options.headBytes))))
        } catch let error as StorageError {
            throw ImageError.storage(error)
        }
        guard let file = window.makeFile() else { throw ImageError.corrupt(image: name, reason: "out of memory") }
        defer { sqb_destroy(file) }
        let superblock = UnsafeMutablePointer<sqfs_super_t>.allocate(capacity: 1)
        defer { superblock.deallocate() }
        superblock.initialize(to: sqfs_super_t())
        let status = sqfs_super_read(superblock, file)
        guard status == 0 else {
            throw ImageError.notSquashfs(image: name, reason: SquashfsStatus.describe(status))
        }
        let sb = superblock.pointee
        try Self.validate(sb, sourceSize: source.size, name: name)
        let compressorName: String
        switch Int32(sb.compression_id) {
        case Int32(SQFS_COMP_GZIP.rawValue): compressorName = "gzip"
        case Int32(SQFS_COMP_XZ.rawValue): compressorName = "xz"
        case Int32(SQFS_COMP_LZ4.rawValue): compressorName = "lz4"
        case Int32(SQFS_COMP_ZSTD.rawValue): compressorName = "zstd"
        case Int32(SQFS_COMP_LZO.rawValue): throw ImageError.unsupportedCompressor(image: name, name: "lzo")
        case Int32(SQFS_COMP_LZMA.rawValue): throw ImageError.unsupportedCompressor(image: name, name: "lzma")
        default: throw ImageError.unsupportedCompressor(image: name, name: "id \(sb.compression_id)")
        }
        do {
            try window.loadTail(from: sb.inode_table_start, to: sb.bytes_used)
        } catch let error as StorageError {
            throw ImageError.storage(error)
        }
        let makeDecompressor: @Sendable () throws -> Decompressor = {
            try Self.makeDecompressor(superblock: sb, window: window, name: name, compressorName: compressorName)
        }
        let metadataDecompressor = try makeDecompressor()
        index = try metadataDecompressor.withPointer { compressor in
            try IndexLoader(imageName: name, superblock: superblock, file: file, compressor: compressor).load()
        }
        info = ImageInfo(
            blockSize: Int(sb.block_size), compressor: compressorName, bytesUsed: sb.bytes_used,
            inodeCount: sb.inode_count, modificationTime: sb.modification_time)
        readahead = (options.readaheadInitial, options.readaheadMaximum)
        readaheadBudget = ReadaheadBudget(cacheBytes: options.cacheBytes)
        let pool = DecompressorPool(factory: makeDecompressor)
        fetcher = BlockFetcher(
            source: source, imageName: name, blockSize: Int(sb.block_size),
            cache: BlockCache(capacityBytes: options.cacheBytes), decompressors: pool, statistics: statistics,
            maxRequestBytes: options.maxRequestBytes, diskCache: options.diskCache)
    }

    private static func validate(_ sb: sqfs_super_t, sourceSize: UInt64, name: String) throws {
        func corrupt(_ reason: String) -> ImageError { .corrupt(image: name, reason: reason) }
        guard sb.bytes_used <= sourceSize else {
            throw corrupt("truncated: the superblock says \(sb.bytes_used) bytes, the source has \(sourceSize)")
        }
        let tables: [(String, UInt64)] = [
            ("inode table", sb.inode_table_start), ("directory table", sb.directory_table_start),
            ("id table", sb.id_table_start),
        ]
        for (table, start) in tables where start >= sb.bytes_used || start < 96 {
            throw corrupt("\(table) offset \(start) lies outside the image (\(sb.bytes_used) bytes)")
        }
        guard sb.inode_table_start <= sb.directory_table_start else {
            throw corrupt("inode table starts after the directory table")
        }
        let optional: [(String, UInt64)] = [
            ("fragment table", sb.fragment_table_start), ("export table", sb.export_table_start),
            ("xattr table", sb.xattr_id_table_start),
        ]
        for (table, start) in optional where start != UInt64.max && (start >= sb.bytes_used || start < 96) {
            throw corrupt("\(table) offset \(start) lies outside the image (\(sb.bytes_used) bytes)")
        }
        guard sb.inode_count > 0 else { throw corrupt("the superblock counts no inodes") }
    }

    private static func makeDecompressor(
        superblock: sqfs_super_t, window: MetadataWindow, name: String, compressorName: String
    ) throws -> Decompressor {
        var config = sqfs_compressor_config_t()
        var status = sqfs_compressor_config_init(
            &config, SQFS_COMPRESSOR(UInt32(superblock.compression_id)), Int(superblock.block_size),
            UInt16(SQFS_COMP_FLAG_UNCOMPRESS.rawValue))
        guard status == 0 else { throw ImageError.unsupportedCompressor(image: name, name: compressorName) }
        var compressor: UnsafeMutablePointer<sqfs_compressor_t>?
        status = sqfs_compressor_create(&config, &compressor)
        guard status == 0, let compressor else {
            throw ImageError.unsupportedCompressor(image: name, name: compressorName)
        }
        let decompressor = Decompressor(pointer: compressor)
        if superblock.flags & UInt16(SQFS_FLAG_COMPRESSOR_OPTIONS.rawValue) != 0 {
            guard let file = window.makeFile() else { throw ImageError.corrupt(image: name, reason: "out of memory") }
            defer { sqb_destroy(file) }
            status = compressor.pointee.read_options(compressor, file)
            guard status == 0 else {
                throw ImageError.corrupt(
                    image: name, reason: "compressor options: \(SquashfsStatus.describe(status))")
            }
        }
        return decompressor
    }

    // MARK: - Tree

    /// Number of distinct entries (hard links count once).
    public var nodeCount: Int { index.nodes.count }

    /// Entries the image holds under names that are unsafe to serve, with the reason; they are hidden.
    public var rejectedEntries: [String] { index.rejectedEntries }

    public func attributes(of id: NodeID) -> NodeAttributes? {
        guard id >= 1, Int(id) <= index.nodes.count else { return nil }
        let node = index.nodes[Int(id) - 1]
        let kind = NodeKind(mode: node.mode)
        return NodeAttributes(
            id: id, mode: node.mode, uid: node.uid, gid: node.gid, mtime: node.mtime, nlink: node.nlink,
            size: node.size, rdev: kind == .blockDevice || kind == .characterDevice ? node.payload : 0)
    }

    private func directory(_ id: NodeID) -> ImageIndex.Directory? {
        guard id >= 1, Int(id) <= index.nodes.count else { return nil }
        let node = index.nodes[Int(id) - 1]
        guard node.mode & UInt32(S_IFMT) == UInt32(S_IFDIR) else { return nil }
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

    /// The target of a symlink, as stored (bytes, not necessarily UTF-8).
    public func symlinkTarget(of id: NodeID) -> [UInt8]? {
        guard let attributes = attributes(of: id), attributes.kind == .symlink else { return nil }
        return index.symlinkTargets[Int(index.nodes[Int(id) - 1].payload)]
    }

    /// Whether any entry has extended attributes.
    public var hasExtendedAttributes: Bool { !index.xattrs.isEmpty }

    public func extendedAttributes(of id: NodeID) -> [ExtendedAttribute] {
        guard id >= 1, Int(id) <= index.nodes.count else { return [] }
        let node = index.nodes[Int(id) - 1]
        guard node.xattrIndex != UInt32.max else { return [] }
        return index.xattrs[node.xattrIndex] ?? []
    }

    // MARK: - Data

    /// Reads up to `length` bytes of regular file `id` at `offset`; fewer only at end of file.
    /// Throws `ImageError.corrupt` for a block that does not decode, `.storage` when bytes can't be fetched.
    public func read(_ id: NodeID, offset: UInt64, length: Int) throws -> [UInt8] {
        Self.joined(try readPieces(id, offset: offset, length: length))
    }

    /// Pieces as one buffer, with bulk copies (`joined()` would copy byte by byte).
    static func joined(_ pieces: [ArraySlice<UInt8>]) -> [UInt8] {
        if pieces.count == 1 { return Array(pieces[0]) }
        var output = [UInt8]()
        output.reserveCapacity(pieces.reduce(0) { $0 + $1.count })
        for piece in pieces { output.append(contentsOf: piece) }
        return output
    }

    /// The bytes `read` returns, as consecutive slices of the cached blocks: a caller that can
    /// send them as they are (FUSE's `reply_iov`) saves copying them into one buffer.
    public func readPieces(_ id: NodeID, offset: UInt64, length: Int) throws -> [ArraySlice<UInt8>] {
        guard id >= 1, Int(id) <= index.nodes.count else { return [] }
        let node = index.nodes[Int(id) - 1]
        guard node.mode & UInt32(S_IFMT) == UInt32(S_IFREG), offset < node.size, length > 0 else { return [] }
        let end = min(node.size, offset + UInt64(length))
        let blockSize = UInt64(info.blockSize)
        let layout = index.files[Int(node.payload)]
        let first = offset / blockSize
        let last = (end - 1) / blockSize
        var references = [BlockReference]()
        references.reserveCapacity(Int(last - first + 1))
        for block in first...last {
            references.append(reference(block: block, layout: layout, fileSize: node.size))
        }
        let blocks = try fetcher.blocks(references)
        var output = [ArraySlice<UInt8>]()
        output.reserveCapacity(blocks.count)
        for (position, block) in blocks.enumerated() {
            let blockIndex = first + UInt64(position)
            let blockStart = blockIndex * blockSize
            var sliceStart = Int(max(offset, blockStart) - blockStart)
            var sliceEnd = Int(min(end, blockStart + blockSize) - blockStart)
            if blockIndex >= UInt64(layout.blockCount) {
                // The tail lives inside a fragment block, at the inode's offset.
                sliceStart += Int(layout.fragmentOffset)
                sliceEnd += Int(layout.fragmentOffset)
            }
            guard sliceEnd <= block.count else {
                statistics.corruptBlocks.add(1, ordering: .relaxed)
                throw ImageError.corrupt(
                    image: source.displayName,
                    reason: "block \(blockIndex) of inode \(id) holds \(block.count) bytes, \(sliceEnd) needed")
            }
            output.append(block[block.startIndex + sliceStart..<block.startIndex + sliceEnd])
        }
        return output
    }

    /// Starts fetching the blocks of file `id` that cover `[offset, offset + length)` in the background.
    public func prefetch(_ id: NodeID, offset: UInt64, length: Int) {
        guard id >= 1, Int(id) <= index.nodes.count, length > 0 else { return }
        let node = index.nodes[Int(id) - 1]
        guard node.mode & UInt32(S_IFMT) == UInt32(S_IFREG), offset < node.size else { return }
        let end = min(node.size, offset + UInt64(length))
        let blockSize = UInt64(info.blockSize)
        let layout = index.files[Int(node.payload)]
        let references = (offset / blockSize...(end - 1) / blockSize).map {
            reference(block: $0, layout: layout, fileSize: node.size)
        }
        fetcher.prefetch(references)
    }

    /// Copies the whole image's data into the disk cache (every block once, in image order), so
    /// that later reads need no network; yields to on-demand reads. Returns the bytes fetched.
    @discardableResult
    public func hydrate(concurrency: Int = 4, isCancelled: () -> Bool = { false }) throws -> Int {
        var references = [BlockReference]()
        references.reserveCapacity(index.blockOffsets.count + index.fragments.count)
        for (offset, word) in zip(index.blockOffsets, index.blockWords) {
            references.append(BlockReference(offset: offset, word: word, expectedSize: nil))
        }
        for fragment in index.fragments {
            references.append(BlockReference(offset: fragment.start, word: fragment.word, expectedSize: nil))
        }
        return try fetcher.hydrate(references, concurrency: concurrency, isCancelled: isCancelled)
    }

    /// Waits until fetched blocks are persisted in the disk cache (before unmount, and in tests).
    public func flushDiskCache() { fetcher.flushDiskWrites() }

    /// Starts fetching every block of the regular files `ids` in the background; blocks that lie
    /// next to each other in the image (consecutive files) merge into large requests. A restore
    /// scans ahead with it so that many small files don't cost one round trip each.
    public func prefetch(files ids: [NodeID]) {
        var references = [BlockReference]()
        for id in ids where id >= 1 && Int(id) <= index.nodes.count {
            let node = index.nodes[Int(id) - 1]
            guard node.mode & UInt32(S_IFMT) == UInt32(S_IFREG), node.size > 0 else { continue }
            let layout = index.files[Int(node.payload)]
            let blocks = UInt64(layout.blockCount) + (layout.fragmentIndex == UInt32.max ? 0 : 1)
            for block in 0..<blocks {
                references.append(reference(block: block, layout: layout, fileSize: node.size))
            }
        }
        if !references.isEmpty { fetcher.prefetch(references) }
    }

    /// A reader for one open file that detects sequential access and reads ahead.
    public func openFile(_ id: NodeID) -> FileReader {
        FileReader(
            image: self, id: id, initialWindow: readahead.initial, maxWindow: readahead.maximum,
            budget: readaheadBudget)
    }

    /// The layout of regular file `id` as runs of stored data and sparse holes, in file order, so a
    /// restore can keep holes sparse; empty for other entries and empty files.
    public func dataRanges(of id: NodeID) -> [FileDataRange] {
        guard id >= 1, Int(id) <= index.nodes.count else { return [] }
        let node = index.nodes[Int(id) - 1]
        guard node.mode & UInt32(S_IFMT) == UInt32(S_IFREG), node.size > 0 else { return [] }
        let blockSize = UInt64(info.blockSize)
        let layout = index.files[Int(node.payload)]
        var ranges = [FileDataRange]()
        func append(_ offset: UInt64, _ length: UInt64, hole: Bool) {
            if let last = ranges.last, last.isHole == hole, last.offset + last.length == offset {
                ranges[ranges.count - 1].length += length
            } else {
                ranges.append(FileDataRange(offset: offset, length: length, isHole: hole))
            }
        }
        for block in 0..<UInt64(layout.blockCount) {
            let start = block * blockSize
            guard start < node.size else { break }
            let word = index.blockWords[Int(layout.firstBlock) + Int(block)]
            append(start, min(blockSize, node.size - start), hole: BlockWord.storedSize(word) == 0)
        }
        let covered = UInt64(layout.blockCount) * blockSize
        if covered < node.size { append(covered, node.size - covered, hole: false) }
        return ranges
    }

    /// Where the data of regular file `id` starts in the image (its first stored block, else its
    /// tail fragment); nil when it stores none. Sorting files by it turns a restore into a
    /// sequential scan of the image.
    public func dataStart(of id: NodeID) -> UInt64? {
        guard id >= 1, Int(id) <= index.nodes.count else { return nil }
        let node = index.nodes[Int(id) - 1]
        guard node.mode & UInt32(S_IFMT) == UInt32(S_IFREG), node.size > 0 else { return nil }
        let layout = index.files[Int(node.payload)]
        for block in 0..<Int(layout.blockCount) {
            let slot = Int(layout.firstBlock) + block
            if BlockWord.storedSize(index.blockWords[slot]) > 0 { return index.blockOffsets[slot] }
        }
        guard layout.fragmentIndex != UInt32.max, Int(layout.fragmentIndex) < index.fragments.count else { return nil }
        return index.fragments[Int(layout.fragmentIndex)].start
    }

    private func reference(block: UInt64, layout: ImageIndex.FileLayout, fileSize: UInt64) -> BlockReference {
        let blockSize = UInt64(info.blockSize)
        if block < UInt64(layout.blockCount) {
            let slot = Int(layout.firstBlock) + Int(block)
            let isLast = block == UInt64(layout.blockCount) - 1 && layout.fragmentIndex == UInt32.max
            let expected = isLast ? Int(fileSize - block * blockSize) : Int(blockSize)
            return BlockReference(
                offset: index.blockOffsets[slot], word: index.blockWords[slot], expectedSize: expected)
        }
        let fragment = index.fragments[Int(layout.fragmentIndex)]
        return BlockReference(offset: fragment.start, word: fragment.word, expectedSize: nil)
    }
}

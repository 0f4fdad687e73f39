import CSquashfs
import CSquashfsShims
import Storage

#if canImport(Glibc)
    import Glibc
#endif

/// An opened squashfs image: its tree decoded on demand from the metadata tables fetched at
/// open, file data read on demand through a shared block cache from any `RangeSource`. Safe to
/// use from many threads.
public final class SquashImage: Sendable {
    public let info: ImageInfo
    public let statistics = ReaderStatistics()
    public let source: any RangeSource
    let index: ImageIndex
    let fetcher: BlockFetcher
    let readahead: (initial: Int, maximum: Int)
    let readaheadBudget: ReadaheadBudget

    /// The root directory's id.
    public static let rootID: NodeID = 1

    /// Opens the image in `source`: one read of the head, one of the metadata tail; directories
    /// and inodes are decoded from the tail when first asked for.
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
        let digests = options.blockDigests
        if let digests { try Self.checkHead(window, digests, name: name) }
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
        if let digests { try Self.checkMetadata(window, digests, superblock: sb, name: name) }
        let makeDecompressor: @Sendable () throws -> Decompressor = {
            try Self.makeDecompressor(superblock: sb, window: window, name: name, compressorName: compressorName)
        }
        let pool = DecompressorPool(factory: makeDecompressor)
        index = try ImageIndex.open(
            superblock: superblock, window: window, imageName: name, decompressors: pool,
            makeDecompressor: makeDecompressor, cacheBytes: options.metadataCacheBytes, statistics: statistics,
            rejectedEntryHandler: options.rejectedEntryHandler)
        info = ImageInfo(
            blockSize: Int(sb.block_size), compressor: compressorName, bytesUsed: sb.bytes_used,
            inodeCount: sb.inode_count, modificationTime: sb.modification_time)
        readahead = (options.readaheadInitial, options.readaheadMaximum)
        readaheadBudget = ReadaheadBudget(cacheBytes: options.cacheBytes)
        fetcher = BlockFetcher(
            source: source, imageName: name, blockSize: Int(sb.block_size),
            cache: MemoryBlockCache(capacityBytes: options.cacheBytes), decompressors: pool, statistics: statistics,
            maxRequestBytes: options.maxRequestBytes, diskCache: options.diskCache, digests: digests,
            memoryBytes: options.cacheBytes)
    }

    /// Whether reads are checked against digests recorded at create.
    public var isVerified: Bool { fetcher.isVerifying }

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
}

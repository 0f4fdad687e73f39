import CSquashfs
import CSquashfsShims
import ImageDigests

/// The libsquashfs objects of one build, created in the order that yields valid images and destroyed
/// in reverse. Everything the library keeps a pointer to lives in stable heap memory.
final class LibraryObjects {
    let bridge: SinkBridge
    let superblock: UnsafeMutablePointer<sqfs_super_t>
    let file: UnsafeMutablePointer<sqfs_file_t>
    let compressor: UnsafeMutablePointer<sqfs_compressor_t>
    let blockWriter: UnsafeMutablePointer<sqfs_block_writer_t>
    let fragmentTable: OpaquePointer
    let processor: OpaquePointer
    let idTable: OpaquePointer
    let xattrWriter: OpaquePointer
    let inodeWriter: OpaquePointer
    let directoryMetaWriter: OpaquePointer
    let directoryWriter: OpaquePointer
    /// Whether compressor options follow the superblock.
    let wroteCompressorOptions: Bool
    /// Digests of the blocks stored so far; nil when the build records none.
    let digests: BlockDigestRecorder?

    private var created: [UnsafeMutableRawPointer] = []

    init(bridge: SinkBridge, options: BuildOptions, modificationTime: UInt32) throws {
        self.bridge = bridge
        let superblock = UnsafeMutablePointer<sqfs_super_t>.allocate(capacity: 1)
        superblock.initialize(to: sqfs_super_t())
        self.superblock = superblock
        var objects: [UnsafeMutableRawPointer] = []
        // Destroys what exists so far when a later step fails (deinit doesn't run for a failed init).
        var complete = false
        defer {
            if !complete {
                for object in objects.reversed() { sqb_destroy(object) }
                superblock.deallocate()
            }
        }
        func check(_ code: Int32, _ operation: String) throws {
            guard code == 0 else { throw bridge.failure ?? BuildError.library(operation: operation, code: code) }
        }
        func made<T>(_ pointer: T?, _ operation: String) throws -> T {
            guard let pointer else { throw BuildError.library(operation: operation, code: SQFS_ERROR_ALLOC.rawValue) }
            return pointer
        }

        try check(
            sqfs_super_init(superblock, options.blockSize, modificationTime, options.compressor.libraryID),
            "initialise the superblock")
        file = try made(bridge.makeFile(), "create the output file")
        objects.append(UnsafeMutableRawPointer(file))
        try check(sqfs_super_write(superblock, file), "write the placeholder superblock")

        compressor = try Self.makeCompressor(options)
        objects.append(UnsafeMutableRawPointer(compressor))
        let optionBytes = compressor.pointee.write_options(compressor, file)
        guard optionBytes >= 0 else {
            throw bridge.failure ?? BuildError.library(operation: "write compressor options", code: optionBytes)
        }
        wroteCompressorOptions = optionBytes > 0

        (blockWriter, digests) = try Self.makeBlockWriter(file: file, options: options)
        objects.append(UnsafeMutableRawPointer(blockWriter))
        // With digests, the block processor's workers get a compressor of their own that hashes
        // each block where it is compressed (the meta writers keep the plain one).
        var workerCompressor = compressor
        if let digests {
            workerCompressor = try Self.makeCompressor(options, observer: digests)
            objects.append(UnsafeMutableRawPointer(workerCompressor))
        }
        fragmentTable = try made(sqfs_frag_table_create(0), "create the fragment table")
        objects.append(UnsafeMutableRawPointer(fragmentTable))
        // Blocks in flight: enough that the reading thread rarely waits on the workers, capped at
        // about 64 MiB of block buffers for large block sizes.
        let backlog = max(8, min(options.threads * 32, (64 << 20) / options.blockSize))
        processor = try made(
            sqfs_block_processor_create(
                options.blockSize, workerCompressor, UInt32(options.threads), backlog, blockWriter, fragmentTable),
            "start the block processor")
        objects.append(UnsafeMutableRawPointer(processor))
        idTable = try made(sqfs_id_table_create(0), "create the id table")
        objects.append(UnsafeMutableRawPointer(idTable))
        xattrWriter = try made(sqfs_xattr_writer_create(0), "create the xattr writer")
        objects.append(UnsafeMutableRawPointer(xattrWriter))
        inodeWriter = try made(sqfs_meta_writer_create(file, compressor, 0), "create the inode writer")
        objects.append(UnsafeMutableRawPointer(inodeWriter))
        directoryMetaWriter = try made(
            sqfs_meta_writer_create(file, compressor, UInt32(SQFS_META_WRITER_KEEP_IN_MEMORY.rawValue)),
            "create the directory table writer")
        objects.append(UnsafeMutableRawPointer(directoryMetaWriter))
        let directoryFlags = options.exportTable ? UInt32(SQFS_DIR_WRITER_CREATE_EXPORT_TABLE.rawValue) : 0
        directoryWriter = try made(
            sqfs_dir_writer_create(directoryMetaWriter, directoryFlags), "create the directory writer")
        objects.append(UnsafeMutableRawPointer(directoryWriter))
        created = objects
        complete = true
    }

    /// The configured compressor, wrapped so that a block is never stored larger than its input,
    /// and, given an `observer`, so that each block it compresses is hashed there.
    private static func makeCompressor(_ options: BuildOptions, observer: BlockDigestRecorder? = nil) throws
        -> UnsafeMutablePointer<sqfs_compressor_t>
    {
        var config = sqfs_compressor_config_t()
        let name = options.compressor.rawValue
        var code = sqfs_compressor_config_init(&config, options.compressor.libraryID, options.blockSize, 0)
        guard code == 0 else { throw BuildError.library(operation: "configure the \(name) compressor", code: code) }
        if options.compressor == .lz4 {
            if options.effectiveLevel > 1 { config.flags |= UInt16(SQFS_COMP_FLAG_LZ4_HC.rawValue) }
        } else {
            config.level = UInt32(options.effectiveLevel)
        }
        var inner: UnsafeMutablePointer<sqfs_compressor_t>?
        code = sqfs_compressor_create(&config, &inner)
        guard code == 0 else { throw BuildError.library(operation: "create the \(name) compressor", code: code) }
        // The recorder outlives the compressor: LibraryObjects holds both and destroys the compressor first.
        let wrapped =
            if let observer {
                sqb_compressor_no_grow_observed(
                    inner, Unmanaged.passUnretained(observer).toOpaque(), Self.blockCompressed)
            } else {
                sqb_compressor_no_grow(inner)
            }
        guard let wrapped else {
            sqb_destroy(inner)
            throw BuildError.library(operation: "wrap the compressor", code: SQFS_ERROR_ALLOC.rawValue)
        }
        return wrapped
    }

    /// The block writer, wrapped to digest every block it stores when the build records digests.
    private static func makeBlockWriter(file: UnsafeMutablePointer<sqfs_file_t>, options: BuildOptions) throws
        -> (UnsafeMutablePointer<sqfs_block_writer_t>, BlockDigestRecorder?)
    {
        guard let plain = sqfs_block_writer_create(file, 4096, 0) else {
            throw BuildError.library(operation: "create the block writer", code: SQFS_ERROR_ALLOC.rawValue)
        }
        guard options.blockDigests else { return (plain, nil) }
        let recorder = BlockDigestRecorder()
        // The recorder outlives the writer: LibraryObjects holds both and destroys the writer first.
        guard
            let observed = sqb_block_writer_observed(
                plain, file, Unmanaged.passUnretained(recorder).toOpaque(), Self.recordBlock)
        else {
            sqb_destroy(plain)
            throw BuildError.library(operation: "wrap the block writer", code: SQFS_ERROR_ALLOC.rawValue)
        }
        return (observed, recorder)
    }

    /// Called by the block writer, on the thread that stores blocks, for each block it stored: takes
    /// the digest a worker computed, or hashes the block here.
    private static let recordBlock: sqb_block_written_fn = { context, location, size, flags, data in
        guard let context, let data else { return }
        let kind: BlockDigestTable.Kind =
            flags & UInt32(SQFS_BLK_FRAGMENT_BLOCK.rawValue) != 0 ? .fragmentBlock : .dataBlock
        Unmanaged<BlockDigestRecorder>.fromOpaque(context).takeUnretainedValue()
            .record(kind, offset: location, bytes: UnsafeRawBufferPointer(start: data, count: Int(size)))
    }

    /// Called by a compression worker for each block it compressed, with the bytes to be stored.
    private static let blockCompressed: sqb_block_compressed_fn = { context, block, stored, size in
        guard let context, let block, let stored else { return }
        Unmanaged<BlockDigestRecorder>.fromOpaque(context).takeUnretainedValue()
            .compressed(buffer: block, stored: UnsafeRawBufferPointer(start: stored, count: Int(size)))
    }

    deinit {
        for object in created.reversed() { sqb_destroy(object) }
        superblock.deallocate()
    }
}

import CSquashfs
import Crypto
import ImageDigests
import Logging
import Synchronization

/// Builds a squashfs image of a directory tree into an `ImageSink`, reproducibly.
///
/// One scan (`lstat`, no symlinks followed), then file data through libsquashfs's parallel block
/// processor in a fixed order, then the metadata tables, then the superblock. The same tree and
/// options give the same bytes whatever the thread count: no clock is read, numbers and orders come
/// from the sorted tree, and the superblock's time is the newest mtime in the tree.
public struct ImageBuilder: Sendable {
    public var options: BuildOptions

    public init(options: BuildOptions = BuildOptions()) {
        self.options = options
    }

    /// Builds the image of `directory` into `sink` (which must be empty) and finishes the sink.
    /// Blocks the calling thread; compression runs on `options.threads` worker threads.
    public func build(directory: String, into sink: any ImageSink) throws -> BuildResult {
        try options.validate()
        let warnings = Mutex<[BuildWarning]>([])
        let options = self.options
        let warn: (BuildWarning) -> Void = { warning in
            warnings.withLock { $0.append(warning) }
            options.logger.warning("\(warning.description)")
            options.onWarning?(warning)
        }
        var phases = BuildPhases(options: options)
        var tree = try TreeWalker(options: options, report: warn).scan(root: directory)
        phases.end(\.scan)
        if tree.ownerIDs.count > 65536 {
            throw BuildError.tooManyIDs(count: tree.ownerIDs.count, path: directory)
        }
        let files = tree.filesInDataOrder()
        phases.progress.phase = .writingData
        phases.progress.filesTotal = files.count
        phases.progress.bytesTotal = files.reduce(0) { $0 + tree.nodes[$1].size }
        phases.report()

        let bridge = SinkBridge(sink: sink)
        let objects = try LibraryObjects(bridge: bridge, options: options, modificationTime: tree.newestMtime)
        let headEnd = Int(bridge.size)
        let data = FileDataWriter(objects: objects, options: options, fileCount: files.count, warn: warn)
        try writeData(files, tree: &tree, data: data, sink: sink, phases: &phases)

        let tables = try writeTables(objects, tree: tree, data: data)
        let blockDigests = try finishDigests(objects, headEnd: headEnd)
        let padding = Int((4096 - bridge.size % 4096) % 4096)
        if padding > 0 {
            try [UInt8](repeating: 0, count: padding).withUnsafeBytes { try bridge.append($0) }
        }
        phases.end(\.metadata)
        guard let header = bridge.header else {
            throw BuildError.output(path: "image", reason: "libsquashfs did not write the final superblock")
        }
        let digest = try sink.finish(header: header)
        phases.end(\.finish)

        var result = BuildResult(imageSize: bridge.size, digest: digest)
        result.record(tables)
        result.fileBytes = files.reduce(0) { tree.nodes[$1].skipped ? $0 : $0 + tree.nodes[$1].size }
        result.bytesRead = data.bytesRead
        result.dedupFiles = data.dedupFiles
        result.dedupBytes = data.dedupBytes
        result.modificationTime = tree.newestMtime
        result.blockDigests = blockDigests
        result.blocksHashedWhereStored = objects.digests?.hashedInLine ?? 0
        result.warnings = warnings.withLock { $0 }
        result.timings = phases.timings
        phases.progress.phase = .finished
        phases.progress.imageBytesWritten = bridge.size
        phases.report()
        options.logger.debug(
            "built image: \(result.imageSize) bytes, \(result.files) files, \(result.dedupFiles) deduplicated")
        return result
    }

    /// Stores every file's data through the block processor, reporting progress and polling for
    /// cancellation as it goes.
    private func writeData(
        _ files: [Int], tree: inout FileTree, data: FileDataWriter, sink: any ImageSink, phases: inout BuildPhases
    ) throws {
        var lastReport = (files: 0, bytes: UInt64(0))
        try data.write(files, tree: &tree) { bytesRead in
            if options.shouldCancel?() == true { throw BuildError.cancelled }
            if data.filesDone - lastReport.files >= 64 || bytesRead - lastReport.bytes >= 8 << 20 {
                lastReport = (data.filesDone, bytesRead)
                phases.progress.filesDone = data.filesDone
                phases.progress.bytesRead = bytesRead
                phases.progress.imageBytesWritten = sink.bytesWritten
                phases.report()
            }
        }
        phases.end(\.data)
        phases.progress.phase = .writingMetadata
        phases.progress.filesDone = data.filesDone
        phases.progress.bytesRead = data.bytesRead
        phases.progress.imageBytesWritten = sink.bytesWritten
        phases.report()
    }

    /// Writes the inode, directory, fragment, export, id and xattr tables, then the final
    /// superblock (over the placeholder at offset 0).
    private func writeTables(_ objects: LibraryObjects, tree: FileTree, data: FileDataWriter) throws
        -> InodeTableWriter.Output
    {
        let bridge = objects.bridge
        let superblock = objects.superblock
        let file = objects.file
        let compressor = objects.compressor
        func check(_ code: Int32, _ operation: String) throws {
            guard code == 0 else { throw bridge.failure ?? BuildError.library(operation: operation, code: code) }
        }
        bridge.beginRegion()
        superblock.pointee.inode_table_start = bridge.size
        let tables = try InodeTableWriter(objects: objects, tree: tree, data: data).write()
        try check(sqfs_meta_writer_flush(objects.inodeWriter), "flush the inode table")
        superblock.pointee.directory_table_start = bridge.size
        try check(sqfs_meta_writer_flush(objects.directoryMetaWriter), "flush the directory table")
        try check(sqfs_meta_write_write_to_file(objects.directoryMetaWriter), "write the directory table")
        try check(
            sqfs_frag_table_write(objects.fragmentTable, file, superblock, compressor), "write the fragment table")
        if options.exportTable {
            try check(
                sqfs_dir_writer_write_export_table(
                    objects.directoryWriter, file, compressor, tables.rootNumber, tables.rootReference, superblock),
                "write the export table")
        }
        try check(sqfs_id_table_write(objects.idTable, file, superblock, compressor), "write the id table")
        try check(sqfs_xattr_writer_flush(objects.xattrWriter, file, superblock, compressor), "write the xattr table")
        superblock.pointee.inode_count = tables.inodeCount
        superblock.pointee.root_inode_ref = tables.rootReference
        superblock.pointee.bytes_used = bridge.size
        if objects.wroteCompressorOptions {
            superblock.pointee.flags |= UInt16(SQFS_FLAG_COMPRESSOR_OPTIONS.rawValue)
        }
        try check(sqfs_super_write(superblock, file), "write the superblock")
        return tables
    }

    /// The block digests with the two regions a reader decodes at open added: the superblock with
    /// the compressor options after it, and the metadata tables (`inode_table_start ..< bytes_used`).
    private func finishDigests(_ objects: LibraryObjects, headEnd: Int) throws -> BlockDigestTable? {
        guard let recorder = objects.digests else { return nil }
        let bridge = objects.bridge
        guard let metadata = bridge.endRegion(), let head = bridge.finalHead(count: headEnd) else {
            throw BuildError.output(path: "image", reason: "the superblock or metadata region was not captured")
        }
        recorder.record(
            BlockDigestTable.Entry(
                offset: metadata.start, length: UInt32(metadata.length), kind: .metadata, digest: metadata.digest))
        head.withUnsafeBytes { recorder.record(BlockDigestTable.Entry(offset: 0, kind: .superblock, bytes: $0)) }
        do {
            return try recorder.table()
        } catch {
            throw BuildError.output(path: "image", reason: "\(error)")
        }
    }
}

/// The build's progress and per-phase timings, as the phases end.
private struct BuildPhases {
    let options: BuildOptions
    var progress = BuildProgress(
        phase: .scanning, filesTotal: 0, filesDone: 0, bytesTotal: 0, bytesRead: 0, imageBytesWritten: 0)
    var timings = BuildTimings()
    private let clock = ContinuousClock()
    private var phaseStart: ContinuousClock.Instant

    init(options: BuildOptions) {
        self.options = options
        phaseStart = clock.now
        options.progress?(progress)
    }

    func report() { options.progress?(progress) }

    /// Books the time since the previous phase ended on `phase`.
    mutating func end(_ phase: WritableKeyPath<BuildTimings, Double>) {
        let now = clock.now
        timings[keyPath: phase] = (now - phaseStart) / .seconds(1)
        phaseStart = now
    }
}

extension BuildResult {
    /// Takes the entry counts from the inode table writer's output.
    fileprivate mutating func record(_ tables: InodeTableWriter.Output) {
        files = tables.counts[.file] ?? 0
        directories = tables.counts[.directory] ?? 0
        symlinks = tables.counts[.symlink] ?? 0
        charDevices = tables.counts[.charDevice] ?? 0
        blockDevices = tables.counts[.blockDevice] ?? 0
        fifos = tables.counts[.fifo] ?? 0
        sockets = tables.counts[.socket] ?? 0
        hardLinks = tables.extraNames
        inodes = Int(tables.inodeCount)
    }
}

import CSquashfs
import Crypto
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
        var progress = BuildProgress(
            phase: .scanning, filesTotal: 0, filesDone: 0, bytesTotal: 0, bytesRead: 0, imageBytesWritten: 0)
        options.progress?(progress)

        let clock = ContinuousClock()
        var timings = BuildTimings()
        var phaseStart = clock.now
        func endPhase() -> Double {
            let now = clock.now
            defer { phaseStart = now }
            let elapsed = now - phaseStart
            return elapsed / .seconds(1)
        }
        var tree = try TreeWalker(options: options, report: warn).scan(root: directory)
        timings.scan = endPhase()
        if tree.ownerIDs.count > 65536 {
            throw BuildError.tooManyIDs(count: tree.ownerIDs.count, path: directory)
        }
        let files = tree.filesInDataOrder()
        progress.phase = .writingData
        progress.filesTotal = files.count
        progress.bytesTotal = files.reduce(0) { $0 + tree.nodes[$1].size }
        options.progress?(progress)

        let bridge = SinkBridge(sink: sink)
        let objects = try LibraryObjects(bridge: bridge, options: options, modificationTime: tree.newestMtime)
        let data = FileDataWriter(objects: objects, options: options, fileCount: files.count, warn: warn)
        var lastReport = (files: 0, bytes: UInt64(0))
        try data.write(files, tree: &tree) { bytesRead in
            if options.shouldCancel?() == true { throw BuildError.cancelled }
            if data.filesDone - lastReport.files >= 64 || bytesRead - lastReport.bytes >= 8 << 20 {
                lastReport = (data.filesDone, bytesRead)
                progress.filesDone = data.filesDone
                progress.bytesRead = bytesRead
                progress.imageBytesWritten = sink.bytesWritten
                options.progress?(progress)
            }
        }
        timings.data = endPhase()
        progress.phase = .writingMetadata
        progress.filesDone = data.filesDone
        progress.bytesRead = data.bytesRead
        progress.imageBytesWritten = sink.bytesWritten
        options.progress?(progress)

        let superblock = objects.superblock
        let file = objects.file
        let compressor = objects.compressor
        func check(_ code: Int32, _ operation: String) throws {
            guard code == 0 else { throw bridge.failure ?? BuildError.library(operation: operation, code: code) }
        }
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
        guard let header = bridge.header else {
            throw BuildError.output(path: "image", reason: "libsquashfs did not write the final superblock")
        }
        let padding = Int((4096 - bridge.size % 4096) % 4096)
        if padding > 0 {
            try [UInt8](repeating: 0, count: padding).withUnsafeBytes { try bridge.append($0) }
        }
        timings.metadata = endPhase()
        let digest = try sink.finish(header: header)
        timings.finish = endPhase()

        var result = BuildResult(imageSize: bridge.size, digest: digest)
        result.files = tables.counts[.file] ?? 0
        result.directories = tables.counts[.directory] ?? 0
        result.symlinks = tables.counts[.symlink] ?? 0
        result.charDevices = tables.counts[.charDevice] ?? 0
        result.blockDevices = tables.counts[.blockDevice] ?? 0
        result.fifos = tables.counts[.fifo] ?? 0
        result.sockets = tables.counts[.socket] ?? 0
        result.hardLinks = tables.extraNames
        result.inodes = Int(tables.inodeCount)
        result.fileBytes = files.reduce(0) { tree.nodes[$1].skipped ? $0 : $0 + tree.nodes[$1].size }
        result.bytesRead = data.bytesRead
        result.dedupFiles = data.dedupFiles
        result.dedupBytes = data.dedupBytes
        result.modificationTime = tree.newestMtime
        result.warnings = warnings.withLock { $0 }
        result.timings = timings
        progress.phase = .finished
        progress.imageBytesWritten = bridge.size
        options.progress?(progress)
        options.logger.debug(
            "built image: \(result.imageSize) bytes, \(result.files) files, \(result.dedupFiles) deduplicated")
        return result
    }
}

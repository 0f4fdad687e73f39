import Crypto
import Foundation
import ImageDigests
import Logging
import SquashWriter
import Storage

/// Creates backups: builds the image of a directory straight into the store, then writes meta.json.
///
/// On any failure or cancellation nothing is left behind: the multipart upload is aborted, a stored
/// image deleted, and meta.json (written last) never appears.
public struct BackupCreator: Sendable {
    public let catalog: BackupCatalog
    public var environment: [String: String]
    public var logger = Logger(label: "sqbackup.create")

    public init(catalog: BackupCatalog, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.catalog = catalog
        self.environment = environment
    }

    /// Backs up `dir` into the store `selection` names; the directory is checked before the store is
    /// opened, so a missing directory is reported as such whatever the store configuration.
    public static func create(
        dir: String, options: BackupOptions, store selection: StoreSelection,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> CreateReport {
        _ = try checkedDirectory(dir)
        let catalog = try BackupCatalog.open(selection, environment: environment)
        return try BackupCreator(catalog: catalog, environment: environment).create(dir: dir, options: options)
    }

    /// Backs up `dir` and returns the stored record. The directory's lock is held throughout, so
    /// a restore into it never interleaves (BACKUP_BUSY, or a wait with `options.wait`).
    public func create(dir: String, options: BackupOptions) throws -> CreateReport {
        let started = Date()
        let directory = try Self.checkedDirectory(dir)
        let lock = try Self.lock(directory, options: options, environment: environment)
        defer { lock.release() }
        var build = try Self.buildOptions(directory: directory, options: options, logger: logger)
        let store = catalog.store
        let remote = StoreSelection.isRemote(store)
        do {
            // Fail on credentials or an unknown bucket before spending minutes on the build.
            _ = try store.list(prefix: "backups/", continuationToken: nil, maxKeys: 1)
        } catch StorageError.notFound {
            throw BackupCatalog.bucketNotFound(store)
        } catch {
            throw Self.storeFailure(error, remote: remote, doing: "listing the bucket")
        }

        let id = BackupID.generate()
        let sink = Self.imageSink(store: store, key: BackupID.dataKey(id), options: options)
        let blockSize = build.blockSize
        let userProgress = options.progress
        build.progress = { progress in
            if progress.phase == .writingData {
                sink.plan(fileBytes: progress.bytesTotal, files: progress.filesTotal, blockSize: blockSize)
            }
            userProgress?(
                CreateProgress(
                    filesDone: progress.filesDone, filesTotal: progress.filesTotal, bytesRead: progress.bytesRead,
                    bytesTotal: progress.bytesTotal, imageBytes: progress.imageBytesWritten,
                    bytesUploaded: sink.bytesUploaded, elapsed: Date().timeIntervalSince(started),
                    finishing: progress.phase == .writingMetadata || progress.phase == .finished))
        }

        let result: BuildResult
        do {
            result = try ImageBuilder(options: build).build(directory: directory, into: sink)
        } catch {
            let leftovers = sink.abort()
            if let reason = options.cancellation.cancelReason {
                throw Self.cancelled(reason, leftovers: leftovers)
            }
            if let failure = sink.failure {
                throw Self.withLeftovers(
                    Self.storeFailure(failure, remote: remote, doing: "uploading the image"), leftovers)
            }
            throw Self.withLeftovers(Self.buildFailure(error), leftovers)
        }

        var meta = BackupMetadata(
            id: id, dir: directory, sizeBytes: result.imageSize, createdAt: Date(), ttl: options.ttl,
            sandboxId: options.resolvedSandboxId(environment: environment), description: options.description,
            metadata: options.metadata.isEmpty ? nil : options.metadata)
        if let name = options.name, !name.isEmpty { meta.name = name }
        meta.sha256 = result.digest.sha256Hex
        meta.compositeSha256 = result.digest.composite
        meta.compressor = build.compressor.rawValue
        meta.compressionLevel = build.effectiveLevel
        meta.blockSize = build.blockSize
        meta.fileCount = result.files
        meta.sourceBytes = result.fileBytes
        do {
            try writeRecords(&meta, digests: result.blockDigests, options: options)
        } catch {
            let leftovers = sink.abort()
            if let reason = options.cancellation.cancelReason {
                throw Self.cancelled(reason, leftovers: leftovers)
            }
            throw Self.withLeftovers(Self.storeFailure(error, remote: remote, doing: "writing meta.json"), leftovers)
        }
        return CreateReport(
            backup: meta, imagePath: nil, imageSize: result.imageSize, sha256: result.digest.sha256Hex,
            compositeSha256: result.digest.composite, files: result.files, sourceBytes: result.fileBytes,
            seconds: Date().timeIntervalSince(started),
            warnings: result.warnings)
    }

    /// Stores the digest table, then meta.json (which anchors the table, and whose presence makes
    /// the backup exist); on failure removes whichever of them was written.
    private func writeRecords(_ meta: inout BackupMetadata, digests: BlockDigestTable?, options: BackupOptions) throws {
        let store = catalog.store
        do {
            if let reason = options.cancellation.cancelReason { throw BackupError(.interrupted, reason) }
            if let digests {
                let encoded = digests.encoded()
                try store.put(BackupID.digestsKey(meta.id), bytes: encoded, contentType: "application/octet-stream")
                meta.blockDigests = BlockDigestsRecord(
                    sha256: BlockDigestTable.hex(SHA256.hash(data: encoded)), count: digests.count)
            }
            let json = try BackupJSON.encoder().encode(meta)
            try store.put(BackupID.metaKey(meta.id), bytes: Array(json), contentType: "application/json")
        } catch {
            try? store.delete(BackupID.metaKey(meta.id))
            try? store.delete(BackupID.digestsKey(meta.id))
            throw error
        }
    }

    /// Builds the image of `dir` into the file `output` only (no store, no meta.json): for benchmarks
    /// and for images to mount or ship by other means.
    public static func buildImage(dir: String, output: String, options: BackupOptions) throws -> CreateReport {
        let started = Date()
        let directory = try checkedDirectory(dir)
        let lock = try lock(directory, options: options, environment: ProcessInfo.processInfo.environment)
        defer { lock.release() }
        var build = try buildOptions(directory: directory, options: options, logger: Logger(label: "sqbackup.create"))
        let userProgress = options.progress
        build.progress = { progress in
            userProgress?(
                CreateProgress(
                    filesDone: progress.filesDone, filesTotal: progress.filesTotal, bytesRead: progress.bytesRead,
                    bytesTotal: progress.bytesTotal, imageBytes: progress.imageBytesWritten,
                    bytesUploaded: progress.imageBytesWritten, elapsed: Date().timeIntervalSince(started),
                    finishing: progress.phase == .writingMetadata || progress.phase == .finished))
        }
        do {
            let sink = try FileImageSink(path: output)
            let result = try ImageBuilder(options: build).build(directory: directory, into: sink)
            return CreateReport(
                backup: nil, imagePath: output, imageSize: result.imageSize, sha256: result.digest.sha256Hex,
                compositeSha256: result.digest.composite,
                files: result.files, sourceBytes: result.fileBytes, seconds: Date().timeIntervalSince(started),
                warnings: result.warnings)
        } catch {
            try? FileManager.default.removeItem(atPath: output)
            if let reason = options.cancellation.cancelReason {
                throw BackupError(.interrupted, "\(reason); the partial image was removed")
            }
            throw buildFailure(error)
        }
    }

    // MARK: Helpers

    /// Written in place when the store can take that (a local directory), else uploaded in parts.
    static func imageSink(store: any ObjectStore, key: String, options: BackupOptions) -> StoreImageSink {
        let contentType = "application/vnd.squashfs"
        if let positioned = store as? any PositionedWriteStore {
            return StoreImageSink(
                writer: PositionedObjectWriter(
                    store: positioned, key: key, contentType: contentType, cancellation: options.cancellation))
        }
        return StoreImageSink(
            writer: MultipartObjectWriter(
                store: store, key: key, contentType: contentType, minimumPartSize: options.minimumPartSize,
                partsInFlight: options.partsInFlight, cancellation: options.cancellation))
    }

    /// The absolute directory; "directory not found" (the spec's check) when it does not exist.
    static func checkedDirectory(_ dir: String) throws -> String {
        let path = URL(
            fileURLWithPath: dir, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        ).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw BackupError(.createFailed, "directory not found: \(path)")
        }
        guard isDirectory.boolValue else { throw BackupError(.createFailed, "not a directory: \(path)") }
        return path
    }

    static func buildOptions(directory: String, options: BackupOptions, logger: Logger) throws -> BuildOptions {
        guard options.ttl > 0 else { throw BackupError(.invalidConfig, "the ttl must be positive") }
        var build = BuildOptions()
        build.compressor = options.compressor.kind
        build.level = options.level
        build.blockSize = options.blockSize
        build.threads = options.threads ?? BuildOptions.onlineCores
        build.skipUnreadable = options.skipUnreadable
        build.blockDigests = options.blockDigests
        build.logger = logger
        let cancellation = options.cancellation
        build.shouldCancel = { cancellation.isCancelled }
        if let onWarning = options.onWarning { build.onWarning = onWarning }
        var patterns = options.excludes
        if options.gitignore { patterns += try GitIgnoreExcludes.patterns(in: directory) }
        do {
            build.excludes = try patterns.map { try GlobPattern($0) }
            try validate(build)
        } catch let error as BuildError {
            throw BackupError(.invalidConfig, error.description)
        }
        return build
    }

    /// The builder validates too, but only after the store was contacted; settle bad flags first.
    private static func validate(_ build: BuildOptions) throws {
        guard build.blockSize >= 4096, build.blockSize <= 1 << 20, build.blockSize & (build.blockSize - 1) == 0 else {
            throw BuildError.invalidOptions("block size \(build.blockSize) must be a power of two from 4 KiB to 1 MiB")
        }
        guard build.compressor.levelRange.contains(build.effectiveLevel) else {
            throw BuildError.invalidOptions(
                "\(build.compressor.rawValue) level \(build.effectiveLevel) is outside \(build.compressor.levelRange)")
        }
        guard build.threads >= 1, build.threads <= 1024 else {
            throw BuildError.invalidOptions("threads must be between 1 and 1024, not \(build.threads)")
        }
    }

    /// A create stopped on request: OPERATION_INTERRUPTED, saying what became of the upload.
    static func cancelled(_ reason: String, leftovers: String?) -> BackupError {
        guard leftovers != nil else {
            return BackupError(.interrupted, "\(reason); the partial upload was removed, nothing was stored")
        }
        return withLeftovers(BackupError(.interrupted, "\(reason); nothing was stored"), leftovers)
    }

    /// The directory's lock, shared with restores into it.
    static func lock(_ directory: String, options: BackupOptions, environment: [String: String]) throws
        -> DirectoryLock
    {
        try DirectoryLock.acquire(
            directory: directory, operation: "create",
            stateRoot: options.stateRoot ?? LazyRoot.stateRoot(environment: environment), wait: options.wait,
            cancellation: options.cancellation)
    }

    /// Says what a failed create could not clean up, and how it will go away.
    static func withLeftovers(_ error: BackupError, _ leftovers: String?) -> BackupError {
        guard let leftovers else { return error }
        return BackupError(
            error.code, error.message + "; cleanup incomplete: \(leftovers)",
            reason: .cleanupIncomplete(leftovers: leftovers))
    }

    static func buildFailure(_ error: any Error) -> BackupError {
        switch error {
        case let error as BackupError: return error
        case let error as BuildError: return BackupError(.createFailed, error.description)
        default: return BackupError.wrapping(error, as: .createFailed)
        }
    }

    /// Store failures during a create; for R2/S3 the message says "R2/S3" (the spec checks for "R2").
    static func storeFailure(_ error: any Error, remote: Bool, doing what: String) -> BackupError {
        if let error = error as? BackupError { return error }
        let detail = (error as? StorageError)?.description ?? "\(error)"
        if case StorageError.invalidConfiguration = error { return BackupError.wrapping(error, as: .invalidConfig) }
        if case StorageError.untrustedCertificate = error {
            let wrapped = BackupError.wrapping(error, as: .invalidConfig)
            return BackupError(
                wrapped.code, "R2/S3 connection refused while \(what): \(wrapped.message)", reason: wrapped.reason)
        }
        if case StorageError.unauthorized = error {
            let wrapped = BackupError.wrapping(error, as: .invalidConfig)
            return BackupError(.invalidConfig, "R2/S3 refused the credentials while \(what): \(wrapped.message)")
        }
        let prefix = remote ? "R2/S3 upload failed" : "writing to the local store failed"
        return BackupError(.createFailed, "\(prefix) while \(what): \(detail)")
    }
}

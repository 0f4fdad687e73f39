extension BackupClient {
    /// What `createBackup` takes: the spec's options (`dir`, `name`, `ttl`, `excludes`,
    /// `useGitignore`, `sandboxId`, `description`, `metadata`) and a few choices of the image.
    public struct CreateOptions: Sendable {
        /// The directory to back up (relative paths are taken from the current directory).
        public var dir: String
        /// A short name for listings; the description, else the directory's last component, when nil.
        public var name: String?
        /// Why the backup was made.
        public var description: String?
        /// Custom key-value pairs, found again with `listBackups(metadata:)`.
        public var metadata: [String: String]
        /// The sandbox (or host) that owns the backup; nil: `SANDBOX_ID` from the client's
        /// environment, else the host name.
        public var sandboxId: String?
        /// How long the backup lives; 7 days by default, as in the spec. Whole seconds, rounded up.
        public var ttl: Duration
        /// Globs relative to `dir` to leave out (`**` crosses directories), e.g. `node_modules`.
        public var excludes: [String]
        /// Also leave out what git ignores (`dir` must then be in a git work tree).
        public var useGitignore: Bool
        /// The image's compression; `compressionLevel` nil is the compressor's fast default.
        public var compressor: BackupCompressor = .zstd
        /// The compression level; nil: the compressor's fast default.
        public var compressionLevel: Int?
        /// Compression threads; nil: all cores.
        public var threads: Int?
        /// The image's data block size: a power of two from 4 KiB to 1 MiB.
        public var blockSize = 128 * 1024
        /// Record the SHA-256 of every stored block, so that mounts, restores and `verify` can
        /// prove what they read; off, the backup reads unverified.
        public var blockDigests = true
        /// The smallest part of a multipart upload (S3, R2); larger trees get larger parts. The
        /// stores refuse parts under 5 MiB.
        public var minimumPartSize = 8 << 20
        /// Leave out files that cannot be read (reported through `onWarning`) instead of failing.
        public var skipUnreadable = false
        /// When a restore into `dir` (or another create of it) runs: wait for it instead of
        /// failing with BACKUP_BUSY.
        public var waitForDirectory = false
        /// Called from the building thread with running totals.
        public var progress: (@Sendable (CreateProgress) -> Void)?
        /// Called for each file the create worked around (changed while read, skipped unreadable).
        public var onWarning: (@Sendable (CreateWarning) -> Void)?

        /// Options for a backup of `dir`; every other option has the spec's default.
        public init(
            dir: String, name: String? = nil, description: String? = nil, metadata: [String: String] = [:],
            sandboxId: String? = nil, ttl: Duration = .seconds(BackupMetadata.defaultTTL), excludes: [String] = [],
            useGitignore: Bool = false
        ) {
            self.dir = dir
            self.name = name
            self.description = description
            self.metadata = metadata
            self.sandboxId = sandboxId
            self.ttl = ttl
            self.excludes = excludes
            self.useGitignore = useGitignore
        }

        /// The synchronous layer's options, stopped by `cancellation`.
        func backupOptions(cancellation: BackupCancellation) -> BackupOptions {
            var options = BackupOptions()
            options.name = name
            options.description = description
            options.metadata = metadata
            options.sandboxId = sandboxId
            let (seconds, attoseconds) = ttl.components
            options.ttl = Int(clamping: seconds) + (attoseconds > 0 ? 1 : 0)
            options.excludes = excludes
            options.gitignore = useGitignore
            options.compressor = compressor
            options.level = compressionLevel
            options.threads = threads
            options.blockSize = blockSize
            options.blockDigests = blockDigests
            options.minimumPartSize = minimumPartSize
            options.skipUnreadable = skipUnreadable
            options.wait = waitForDirectory
            options.progress = progress
            options.onWarning = onWarning
            options.cancellation = cancellation
            return options
        }
    }
}

import Foundation

/// What `createBackup` takes besides the directory: the spec's options plus image tuning.
public struct BackupOptions: Sendable {
    /// The name listings show; nil: the description, else the directory's last component.
    public var name: String?
    public var description: String?
    public var metadata: [String: String] = [:]
    /// Default: `$SANDBOX_ID`, else the host name.
    public var sandboxId: String?
    /// Lifetime in seconds; 7 days by default, as in the spec.
    public var ttl: Int = BackupMetadata.defaultTTL
    /// Globs relative to the directory (`**` crosses directories); see `GlobPattern`.
    public var excludes: [String] = []
    /// Also leave out what git ignores in the directory (which must be a git work tree).
    public var gitignore = false
    public var compressor = BackupCompressor.zstd
    /// nil: the compressor's fast default.
    public var level: Int?
    public var blockSize = 128 * 1024
    /// nil: all cores.
    public var threads: Int?
    public var skipUnreadable = false
    /// Record the SHA-256 of every stored block (`blocks.sha256` beside the image) so that mounts,
    /// restores and `verify` can prove the bytes they read; off, the backup reads unverified.
    public var blockDigests = true
    /// The smallest multipart part; larger trees get larger parts so that 10,000 parts always suffice.
    /// S3 and R2 refuse parts under 5 MiB.
    public var minimumPartSize = 8 << 20
    /// Parts uploading at once; memory is about (this + 2) × part size.
    public var partsInFlight = 4
    /// Called from the building thread with running totals.
    public var progress: (@Sendable (CreateProgress) -> Void)?
    /// Called for each warning (a file that changed while read, a skipped unreadable file, …).
    public var onWarning: (@Sendable (CreateWarning) -> Void)?
    /// Set from a signal handler to stop the build and abort the upload.
    public var cancellation = BackupCancellation()
    /// When a restore into the directory (or another create of it) runs: wait for it instead of
    /// failing with BACKUP_BUSY.
    public var wait = false
    /// Where the directory's lock file lives; nil: `LazyRoot.stateRoot(environment:)`.
    public var stateRoot: String?

    public init() {}

    /// `sandboxId`, else `$SANDBOX_ID`, else the host name.
    func resolvedSandboxId(environment: [String: String]) -> String {
        if let sandboxId, !sandboxId.isEmpty { return sandboxId }
        if let fromEnvironment = environment["SANDBOX_ID"], !fromEnvironment.isEmpty { return fromEnvironment }
        return ProcessInfo.processInfo.hostName
    }
}

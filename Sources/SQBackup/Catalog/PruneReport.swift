import Storage

/// What `BackupCatalog.prune` removed, or would remove in a dry run.
public struct PruneReport: Sendable {
    /// Expired backups (deleted unless dry run).
    public var expired: [BackupMetadata] = []
    /// Multipart uploads older than the limit, as "key (upload id)" (aborted unless dry run).
    public var staleUploads: [String] = []
    /// Objects under a backup without a meta.json, older than the limit: left by a create that was killed.
    public var orphans: [String] = []
    /// Whether nothing was deleted, only reported.
    public var dryRun: Bool

    /// An empty report.
    public init(dryRun: Bool) { self.dryRun = dryRun }

    /// Whether there was nothing to prune.
    public var isEmpty: Bool { expired.isEmpty && staleUploads.isEmpty && orphans.isEmpty }
}

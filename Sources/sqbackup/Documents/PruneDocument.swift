import SQBackup

/// What `prune --json` prints: what was removed, or with `dryRun` what would be.
struct PruneDocument: Encodable {
    var dryRun: Bool
    /// Expired backups, oldest first, as `list --json` shows backups.
    var expired: [DirectoryBackup]
    /// Unfinished uploads older than the limit, as "key (upload id)".
    var staleUploads: [String]
    /// Objects of backups without a meta.json (killed creates), older than the limit.
    var orphans: [String]

    init(_ report: PruneReport) {
        dryRun = report.dryRun
        expired = report.expired.map(\.directoryBackup)
        staleUploads = report.staleUploads
        orphans = report.orphans
    }
}

import Restore

extension BackupCatalog {
    /// Restores backup `id`: the spec's `restoreBackup(id, options)`. Without `targetDir` the
    /// backup's original directory is rolled back (extras removed unless `keepExtra`); a given
    /// `targetDir` must be missing or empty unless `force`. BACKUP_NOT_FOUND and BACKUP_EXPIRED as for mounts.
    public func restoreBackup(id: String, options: RestoreBackupOptions = RestoreBackupOptions()) throws
        -> RestoreResult
    {
        let opened = try open(id, verify: options.verify)
        let target = options.targetDir ?? opened.meta.dir
        var options = options
        options.reader.blockDigests = opened.digests
        return try BackupRestore.restore(
            source: opened.source, into: target, explicitTarget: options.targetDir != nil, options: options)
    }
}

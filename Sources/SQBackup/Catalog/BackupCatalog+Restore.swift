import Restore

extension BackupCatalog {
    /// Restores backup `id`: the spec's `restoreBackup(id, options)`. Without `targetDir` the
    /// backup's original directory is rolled back (extras removed unless `keepExtra`); a given
    /// `targetDir` must be missing or empty unless `force`. BACKUP_NOT_FOUND and BACKUP_EXPIRED as for mounts.
    public func restoreBackup(id: String, options: RestoreBackupOptions = RestoreBackupOptions()) throws
        -> RestoreResult
    {
        let source = try resolve(id)
        let meta = try show(id)
        let target = options.targetDir ?? meta.dir
        var options = options
        if options.verify { options.reader.blockDigests = try blockDigests(of: meta) }
        return try BackupRestore.restore(
            source: source, into: target, explicitTarget: options.targetDir != nil, options: options)
    }
}

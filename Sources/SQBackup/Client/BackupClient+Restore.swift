extension BackupClient {
    /// Restores backup `id`: the spec's `restoreBackup`. Without `targetDir` the backup's original
    /// directory is rolled back to the snapshot; a given `targetDir` must be missing or empty
    /// unless `force` ("target directory exists" otherwise).
    ///
    /// BACKUP_NOT_FOUND (the message says "not found") or BACKUP_EXPIRED for a backup that does not
    /// exist or has expired. Entries that could not be restored are listed in the result's
    /// `notRestored` (`isPartial`), the rest is restored. Cancelling the task stops the restore
    /// before its next file is put in place (OPERATION_INTERRUPTED): a new target is not created,
    /// and in place every file is its old or its restored version, nothing removed yet.
    @discardableResult
    public func restoreBackup(_ id: String, options: RestoreOptions = RestoreOptions()) async throws
        -> RestoreResult
    {
        let cancellation = BackupCancellation()
        let settings = options.restoreOptions(
            cancellation: cancellation, stateRoot: LazyRoot.stateRoot(environment: environment))
        let client = self
        return try await BlockingCall.run(cancellation: cancellation, fallback: .restoreFailed) {
            try client.catalog().restoreBackup(id: id, options: settings)
        }
    }
}

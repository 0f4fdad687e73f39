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
        try await restore(.backup(id: id), options: options)
    }

    /// Restores `image`: a backup id as ``restoreBackup(_:options:)`` does, or an image that is not
    /// in the catalog (a local squashfs file, an http(s) URL, plain or presigned), which has no
    /// original directory and so needs `targetDir`. URLs are trusted as the client's store
    /// selection says (`caBundle`).
    @discardableResult
    public func restore(_ image: ImageReference, options: RestoreOptions = RestoreOptions()) async throws
        -> RestoreResult
    {
        let cancellation = BackupCancellation()
        let settings = options.restoreOptions(
            cancellation: cancellation, stateRoot: LazyRoot.stateRoot(environment: environment))
        let client = self
        let image = image.absolute()
        return try await BlockingCall.run(cancellation: cancellation, fallback: .restoreFailed) {
            if case .backup(let id) = image { return try client.catalog().restoreBackup(id: id, options: settings) }
            return try BackupRestore.restore(
                image, store: client.store ?? StoreSelection(), options: settings, environment: client.environment)
        }
    }
}

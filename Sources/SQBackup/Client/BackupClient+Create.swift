extension BackupClient {
    /// Backs up `options.dir`: the spec's `createBackup`. The image streams into the store while
    /// it is built; the backup exists once its meta.json is written, last.
    ///
    /// Fails with BACKUP_CREATE_FAILED "directory not found" when the directory is missing (checked
    /// before the store is contacted), with a message containing "R2" when the bucket upload fails,
    /// and with OPERATION_INTERRUPTED when the task is cancelled: then the upload is aborted and
    /// nothing of the backup is left in the store.
    public func createBackup(_ options: CreateOptions) async throws -> DirectoryBackup {
        let cancellation = BackupCancellation()
        let settings = options.backupOptions(cancellation: cancellation)
        let dir = Self.absolute(options.dir)
        let environment = self.environment
        let client = self
        return try await BlockingCall.run(cancellation: cancellation, fallback: .createFailed) {
            _ = try BackupCreator.checkedDirectory(dir)
            let creator = BackupCreator(catalog: try client.catalog(), environment: environment)
            guard let stored = try creator.create(dir: dir, options: settings).backup else {
                throw BackupError(.createFailed, "the backup of \(dir) was built but not stored")
            }
            return stored.directoryBackup
        }
    }
}

extension BackupClient {
    /// Backs up `options.dir`: the spec's `createBackup`. The image streams into the store while
    /// it is built; the backup exists once its meta.json is written, last.
    ///
    /// Fails with BACKUP_CREATE_FAILED "directory not found" when the directory is missing (checked
    /// before the store is contacted), with a message containing "R2" when the bucket upload fails,
    /// and with OPERATION_INTERRUPTED when the task is cancelled: then the upload is aborted and
    /// nothing of the backup is left in the store.
    public func createBackup(_ options: CreateOptions) async throws -> DirectoryBackup {
        let report = try await createBackupReport(options)
        guard let stored = report.backup else {
            throw BackupError(.createFailed, "the backup of \(options.dir) was built but not stored")
        }
        return stored.directoryBackup
    }

    /// `createBackup`, returning what the create did besides the stored record: files, bytes read,
    /// the image's size and hashes, the time taken (`report.backup` is the full meta.json).
    public func createBackupReport(_ options: CreateOptions) async throws -> CreateReport {
        let cancellation = BackupCancellation()
        let settings = options.backupOptions(cancellation: cancellation)
        let dir = Self.absolute(options.dir)
        let environment = self.environment
        let client = self
        return try await BlockingCall.run(cancellation: cancellation, fallback: .createFailed) {
            _ = try BackupCreator.checkedDirectory(dir)
            let creator = BackupCreator(catalog: try client.catalog(), environment: environment)
            return try creator.create(dir: dir, options: settings)
        }
    }

    /// Builds the image of `options.dir` into the local file `output` only: no store is contacted
    /// and no backup is recorded (an image to mount or ship by other means). The report's
    /// `imagePath` and `sha256` name the file; a cancelled or failed build removes it.
    public func buildImage(_ options: CreateOptions, output: String) async throws -> CreateReport {
        let cancellation = BackupCancellation()
        var building = options.backupOptions(cancellation: cancellation)
        building.stateRoot = LazyRoot.stateRoot(environment: environment)
        let settings = building
        let dir = Self.absolute(options.dir)
        let path = Self.absolute(output)
        return try await BlockingCall.run(cancellation: cancellation, fallback: .createFailed) {
            try BackupCreator.buildImage(dir: dir, output: path, options: settings)
        }
    }
}

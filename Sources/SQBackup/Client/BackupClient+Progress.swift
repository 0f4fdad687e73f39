extension BackupClient {
    /// `createBackup`, started at once, its progress as a stream (`options.progress` is still called).
    public func createBackupWithProgress(_ options: CreateOptions) -> BackupOperation<CreateProgress, DirectoryBackup> {
        BackupOperation { report in
            var options = options
            let callback = options.progress
            options.progress = { progress in
                report(progress)
                callback?(progress)
            }
            return try await self.createBackup(options)
        }
    }

    /// `restoreBackup`, started at once, its progress as a stream (`options.progress` is still called).
    public func restoreBackupWithProgress(_ id: String, options: RestoreOptions = RestoreOptions())
        -> BackupOperation<RestoreProgress, RestoreResult>
    {
        BackupOperation { report in
            var options = options
            let callback = options.progress
            options.progress = { progress in
                report(progress)
                callback?(progress)
            }
            return try await self.restoreBackup(id, options: options)
        }
    }

    /// `verify`, started at once, its progress as a stream.
    public func verifyWithProgress(_ id: String, parallelReads: Int = 8) -> BackupOperation<
        VerifyProgress, VerifyReport
    > {
        BackupOperation { report in try await self.verify(id, parallelReads: parallelReads, progress: report) }
    }
}

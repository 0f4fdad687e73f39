extension BackupClient {
    /// What `restoreBackup` takes: the spec's `targetDir`, and how to treat what is already there.
    public struct RestoreOptions: Sendable {
        /// Where to restore; nil: the backup's original directory, rolled back to the snapshot
        /// (only what differs is written). Relative paths are taken from the current directory.
        public var targetDir: String?
        /// Restore over a non-empty `targetDir` instead of failing with "target directory exists".
        public var force: Bool
        /// Keep entries the snapshot does not have instead of removing them.
        public var keepExtra: Bool
        /// Check every block read against the digests recorded at create: a damaged file fails
        /// (and is listed in `notRestored`) instead of being written with wrong bytes.
        public var verify = true
        /// When another restore or create of the target runs: wait for it instead of failing with BACKUP_BUSY.
        public var waitForDirectory = false
        /// Keep setuid/setgid bits and file capabilities; nil: as root yes, otherwise no (only root can).
        public var preserveSetuid: Bool?
        /// Called a few times a second, from a thread of the restore, with its running totals.
        public var progress: (@Sendable (RestoreProgress) -> Void)?

        /// Options restoring into `targetDir` (nil: the original directory).
        public init(targetDir: String? = nil, force: Bool = false, keepExtra: Bool = false) {
            self.targetDir = targetDir
            self.force = force
            self.keepExtra = keepExtra
        }

        /// The synchronous layer's options, stopped by `cancellation`, keeping locks under `stateRoot`.
        func restoreOptions(cancellation: BackupCancellation, stateRoot: String) -> RestoreBackupOptions {
            var options = RestoreBackupOptions(targetDir: targetDir.map(BackupClient.absolute), force: force)
            options.keepExtra = keepExtra
            options.verify = verify
            options.wait = waitForDirectory
            options.stateRoot = stateRoot
            options.cancellation = cancellation
            if let preserveSetuid { options.restore.preserveSetuid = preserveSetuid }
            options.progress = progress
            return options
        }
    }
}

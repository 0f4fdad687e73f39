extension BackupClient {
    /// What `restoreLazily` takes: where the lazy root goes, and how its image is mounted.
    public struct LazyOptions: Sendable {
        /// Where the root appears; nil: the backup's original directory, whose contents are
        /// covered (not changed) and come back when the root is removed.
        public var targetDir: String?
        /// Cover a non-empty `targetDir` instead of failing with "target directory exists".
        public var force: Bool
        /// Mount the overlay without nosuid and nodev (the image is trusted): its setuid programs,
        /// capabilities and device nodes then work at the target.
        public var preserveSetuid = false
        /// Check every block read against the digests recorded at create; a damaged block fails its read.
        public var verify = true
        /// How the image mount this process serves caches what it reads (unused with `mountLower`).
        public var mount = MountOptions()
        /// Mounts the image on the root's lower directory by other means, returning once it is
        /// ready: the `sqbackup` command starts a mount daemon there, so that the root outlives
        /// the command. nil: the mount is served by threads of this process, and ends with it.
        public var mountLower: (@Sendable (LazyRoot) throws -> Void)?

        /// Options for a lazy root at `targetDir` (nil: the backup's original directory).
        public init(targetDir: String? = nil, force: Bool = false) {
            self.targetDir = targetDir
            self.force = force
        }

        /// The lazy-root layer's options, keeping state under `stateRoot`.
        func lazyRestoreOptions(stateRoot: String) -> LazyRestoreOptions {
            var options = LazyRestoreOptions(targetDir: targetDir.map(BackupClient.absolute), force: force)
            options.trusted = preserveSetuid
            options.stateRoot = stateRoot
            return options
        }
    }
}

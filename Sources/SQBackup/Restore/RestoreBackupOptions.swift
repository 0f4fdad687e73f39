import Logging
import Restore
import SquashReader
import Storage

/// What `restoreBackup` takes: the spec's `targetDir`, whether to restore over a non-empty
/// target, and the restore's own choices (extras, devices, setuid).
public struct RestoreBackupOptions: Sendable {
    /// nil: the backup's original directory (a rollback, overlay-style).
    public var targetDir: String?
    /// Restore over a non-empty `targetDir` (overlay-style) instead of failing with "target directory exists".
    public var force = false
    public var restore = RestoreOptions()
    public var reader = ReaderOptions()
    /// Check every block read (and the metadata, at open) against the backup's digests: a damaged
    /// file fails instead of being written with wrong bytes.
    public var verify = true
    public var logger: Logger?
    /// When another restore or create of the target runs: wait for it instead of failing with BACKUP_BUSY.
    public var wait = false
    /// Where the target's lock file lives; nil: `LazyRoot.stateRoot(environment:)` of this process.
    public var stateRoot: String?

    public init(targetDir: String? = nil, force: Bool = false) {
        self.targetDir = targetDir
        self.force = force
    }

    /// Set (from a signal handler) to stop the restore; it then fails with OPERATION_INTERRUPTED.
    public var cancellation: CancellationFlag? {
        get { restore.cancellation }
        set { restore.cancellation = newValue }
    }

    /// Called a few times a second with the running totals of a restore (not of a lazy one).
    public var progress: (@Sendable (RestoreProgress) -> Void)? {
        get { restore.progress }
        set { restore.progress = newValue }
    }

    /// Keep entries the snapshot does not have.
    public var keepExtra: Bool {
        get { restore.keepExtra }
        set { restore.keepExtra = newValue }
    }
}

/// A lazy root made by ``BackupClient/restoreLazily(_:options:)``: where it is, where its writes
/// go, and how to remove it.
public final class LazyRestoreResult: Sendable {
    /// The root's record (also found again by `sqbackup status` and `sqbackup unmount`).
    public let root: LazyRoot
    /// The directory that now shows the snapshot (writable).
    public var dir: String { root.target }
    /// Where the writes made at `dir` land.
    public var upperDir: String { root.upper }
    /// The root's state directory (its lower mount, upper layer, record and logs).
    public var stateDir: String { root.stateDirectory }
    /// The image, as messages name it (a URL without its query).
    public var image: String { root.image }
    /// Whether this process serves the image mount under the root (it then ends with the process).
    public var servedInProcess: Bool { lowerMount != nil }
    /// Why reads of an image served in this process are unverified; nil when every block is checked.
    public var unverifiedReason: String? { lowerMount?.unverifiedReason }

    private let lowerMount: MountedBackup?

    init(root: LazyRoot, lowerMount: MountedBackup?) {
        self.root = root
        self.lowerMount = lowerMount
    }

    /// Removes the root: the overlay and the image mount under it are unmounted, the state
    /// directory is deleted (the writes made in the root go with it) and a target the restore
    /// created is removed. MOUNT_FAILED while files are open there, unless `detach`.
    public func remove(detach: Bool = false) async throws {
        let root = self.root
        try await BlockingCall.run(fallback: .mountFailed) { try LazyRestore.teardown(root, detach: detach) }
        if let lowerMount { await lowerMount.unmount() }
    }
}

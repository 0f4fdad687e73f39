import Logging

extension BackupClient {
    /// Makes `image` usable at the target at once, without restoring it: the image is mounted
    /// read-only and fetched on demand, and kernel overlayfs on top takes the writes into a local
    /// upper layer (under the state directory, `SQBACKUP_STATE_DIR`). The result says where the
    /// root, its upper layer and its state are; ``LazyRestoreResult/remove(detach:)`` takes it
    /// down again, writes included. Needs root (overlayfs).
    ///
    /// BACKUP_NOT_FOUND or BACKUP_EXPIRED as for a restore, before anything is mounted;
    /// BACKUP_RESTORE_FAILED for a target that exists and is not empty (unless `force`) or when
    /// a mount fails, with everything done so far undone.
    public func restoreLazily(_ image: ImageReference, options: LazyOptions = LazyOptions()) async throws
        -> LazyRestoreResult
    {
        let client = self
        let image = image.absolute()
        let settings = options.lazyRestoreOptions(stateRoot: LazyRoot.stateRoot(environment: environment))
        return try await BlockingCall.run(fallback: .restoreFailed) {
            var lower: MountedBackup?
            let root = try LazyRestore.restore(
                image, catalog: client.catalog, options: settings, environment: client.environment
            ) { root in
                if let mountLower = options.mountLower { return try mountLower(root) }
                lower = try client.serveLower(image, at: root.lower, options: options)
            }
            return LazyRestoreResult(root: root, lowerMount: lower)
        }
    }

    /// Mounts `image` at `mountpoint`, served by threads of this process.
    private func serveLower(_ image: ImageReference, at mountpoint: String, options: LazyOptions) throws
        -> MountedBackup
    {
        var mount = options.mount
        mount.verify = options.verify
        // The overlay's users reach the image through the kernel, as themselves.
        mount.allowOther = true
        let located: LocatedImage
        if case .backup(let id) = image {
            located = try catalog().locate(id, verify: options.verify)
        } else {
            located = try ImageLocator.locate(
                image, store: store ?? StoreSelection(), verify: options.verify, environment: environment)
        }
        let served = try ImageMount(
            located: located, reference: image, mountpoint: mountpoint, settings: mount.settings,
            logger: Logger(label: "sqbackup.lazy-root"))
        return MountedBackup(id: image.description, mount: served)
    }
}

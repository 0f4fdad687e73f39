import Logging

extension BackupClient {
    /// Mounts backup `id` read-only at `mountpoint` (an existing, empty directory) without
    /// downloading it: metadata is read once, file data on demand. The mount is served by threads
    /// of this process until ``MountedBackup/unmount()``; a process that exits without unmounting
    /// leaves a dead mountpoint behind (`umount` clears it). Needs `/dev/fuse` (root, or fusermount3).
    ///
    /// BACKUP_NOT_FOUND or BACKUP_EXPIRED as for a restore, MOUNT_FAILED when the kernel refuses.
    public func mount(_ id: String, at mountpoint: String, options: MountOptions = MountOptions()) async throws
        -> MountedBackup
    {
        let client = self
        let path = Self.absolute(mountpoint)
        return try await BlockingCall.run(fallback: .mountFailed) {
            let located = try client.catalog().locate(id, verify: options.verify)
            let mount = try ImageMount(
                located: located, reference: .backup(id: id), mountpoint: path, settings: options.settings,
                logger: Logger(label: "sqbackup.mount"))
            return MountedBackup(id: id, mount: mount)
        }
    }
}

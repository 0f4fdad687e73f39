extension BackupError {
    /// Situations a caller can tell apart without reading the message: each is one the user can
    /// get out of, and a front end names its own way out (the CLI its flags).
    public enum Reason: Equatable, Sendable {
        /// An explicit restore target holds entries; restoring over it must be asked for.
        /// `covering`: a lazy restore would cover the entries (until unmount) rather than change them.
        case targetNotEmpty(path: String, covering: Bool)
        /// Files are open below `path`, so it cannot be unmounted unless detached.
        case busy(path: String)
        /// Another restore or create of directory `path` holds its lock; `holder`: which one
        /// ("a restore (pid 123)"), when known. Waiting for it is a way out.
        case directoryBusy(path: String, holder: String?)
        /// A lazy restore mounts kernel overlayfs, which only root can.
        case lazyRestoreNeedsRoot
        /// Leaving out what git ignores was asked for, but `directory` is not in a git work tree.
        case notAGitWorkTree(directory: String)
        /// Leaving out what git ignores was asked for, but git could not say what it ignores.
        case gitIgnoreUnavailable
        /// The store's bucket does not exist.
        case bucketNotFound
        /// Prefetching the whole image was asked for, but the disk cache is off.
        case prefetchNeedsDiskCache
        /// The mountpoint has entries that a mount would hide.
        case mountpointNotEmpty(path: String)
        /// The TLS certificate of `peer` (`host:port`) is not trusted by the configured CAs.
        case untrustedCertificate(peer: String)
        /// A failed create could not remove what it uploaded; a prune of old uploads removes it.
        case cleanupIncomplete(leftovers: String)
    }
}

extension BackupClient {
    /// What `mount` takes: how the read-only mount of a backup caches and checks what it reads.
    public struct MountOptions: Sendable {
        /// Check every fetched block against the digests recorded at create; a damaged block fails its read.
        public var verify = true
        /// Keep fetched blocks on disk across mounts (shared by all of them); nil: on, for backups.
        public var diskCache: Bool?
        /// Where the disk cache lives; nil: `$XDG_CACHE_HOME/sqbackup`, else `~/.cache/sqbackup`.
        public var cacheDirectory: String?
        /// Disk space the disk cache may use, shared by all mounts.
        public var cacheBytes = 4 << 30
        /// Memory for decompressed blocks; half of it bounds the readahead of the files read at once.
        public var memoryCacheBytes = 256 << 20
        /// Let other users read the mount (FUSE's `allow_other`; needs root or `user_allow_other`).
        public var allowOther = false
        /// Requests served at once (each may wait on the store).
        public var threads = 64

        /// The defaults the `sqbackup mount` command has.
        public init() {}

        /// The mount layer's settings.
        var settings: ImageMount.Settings {
            var settings = ImageMount.Settings()
            settings.verify = verify
            settings.diskCacheEnabled = diskCache
            settings.diskCacheDirectory = cacheDirectory.map(BackupClient.absolute)
            settings.diskCacheBytes = cacheBytes
            settings.reader.cacheBytes = memoryCacheBytes
            settings.mount.maxThreads = threads
            if allowOther { settings.mount.extraOptions.append("allow_other") }
            return settings
        }
    }
}

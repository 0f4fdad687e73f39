import Foundation
import Logging
import MountFS
import Storage

#if canImport(Glibc)
    import Glibc
#endif

/// Mounts every backup of a store read-only through FUSE (`mount --all`): `by-id/<id>/`,
/// `by-date/<day>/<time>-<id>`, `by-sandbox/<sandbox>/<id>` and `latest`, each image opened on
/// first use and the listing refreshed on a timer.
public struct StoreBrowserMount: Sendable {
    /// Everything `sqbackup mount --all` can tune.
    public struct Settings: Sendable {
        /// As for a single mount: mount options, store, disk cache, verification; the memory cache
        /// (`reader.cacheBytes`) is the whole daemon's, split evenly over `maxOpen` images.
        public var image = ImageMount.Settings()
        /// Images kept open at once (more while more have open files).
        public var maxOpen = 16
        /// Seconds a listing of the store is used before the next one.
        public var refreshSeconds: TimeInterval = 30
        /// Only backups of this sandbox, as `list --sandbox`.
        public var sandboxId: String?
        /// Only backups carrying every key with the given value, as `list --meta`.
        public var metadata: [String: String] = [:]
        public init() {}
    }

    /// The smallest memory cache an image gets, however many may be open.
    static let minimumImageCacheBytes = 16 << 20

    public let mount: FuseMount
    public let filesystem: StoreBrowserFilesystem
    public let listing: BackupDirectoryListing
    private let sourceName: String
    /// The requests sent to the store (listings, meta.json, images); nil when they are not counted.
    private let requests: RequestMeter?
    private let logger: Logger

    /// Mounts the store `settings.image.store` selects at `mountpoint`.
    public init(mountpoint: String, settings: Settings, logger: Logger) throws {
        let catalog: BackupCatalog
        let requests = RequestMeter()
        do {
            catalog = try BackupCatalog.open(settings.image.store, meter: requests)
        } catch {
            throw BackupError.wrapping(error, as: .invalidConfig)
        }
        try self.init(catalog: catalog, mountpoint: mountpoint, settings: settings, logger: logger, requests: requests)
    }

    /// Mounts the backups of `catalog` at `mountpoint`; `requests`, when given, counts what the
    /// catalog's store is sent, for `sqbackup status`.
    public init(
        catalog: BackupCatalog, mountpoint: String, settings: Settings, logger: Logger, requests: RequestMeter? = nil
    ) throws {
        guard settings.maxOpen >= 1 else {
            throw BackupError(.invalidConfig, "at least one image must be allowed open (asked for \(settings.maxOpen))")
        }
        guard settings.refreshSeconds >= 0, settings.refreshSeconds.isFinite else {
            throw BackupError(.invalidConfig, "the listing refresh interval must be 0 seconds or more")
        }
        guard !settings.image.prefetchAll else {
            throw BackupError(
                .invalidConfig, "copying whole images into the disk cache is for a mount of one backup, not all")
        }
        listing = BackupDirectoryListing(
            catalog: catalog, refreshInterval: settings.refreshSeconds, sandboxId: settings.sandboxId,
            metadataFilter: settings.metadata, logger: logger)
        // A store that can't be listed (wrong bucket, credentials) fails the mount, not every `ls` after it.
        _ = try listing.backupIDs()
        var imageSettings = settings.image
        imageSettings.reader.cacheBytes = max(
            Self.minimumImageCacheBytes, settings.image.reader.cacheBytes / settings.maxOpen)
        filesystem = StoreBrowserFilesystem(
            catalog: BrowsedStore(listing: listing, settings: imageSettings, logger: logger),
            maxOpen: settings.maxOpen, listingTimeout: settings.refreshSeconds, logger: logger)
        sourceName = "all backups in \(catalog.storeName)"
        self.requests = requests
        self.logger = logger
        var options = settings.image.mount
        if options.fsName == MountOptions().fsName { options.fsName = "sqbackup:all" }
        do {
            mount = try FuseMount(browser: filesystem, mountpoint: mountpoint, options: options)
        } catch {
            throw BackupError.wrapping(error, as: .mountFailed)
        }
    }

    /// Serves the mount until it is unmounted, answering `sqbackup status` (with the open images)
    /// meanwhile; `unmountOnSignals` as in `FuseMount.serve`.
    public func serve(unmountOnSignals: Bool = false, onReady: () -> Void) {
        let filesystem = self.filesystem
        let mountpoint = mount.mountpoint
        let source = sourceName
        let requests = self.requests
        let status = StatusServer(mountpoint: mountpoint, logger: logger) { startedAt in
            MountStatus(
                pid: getpid(), mountpoint: mountpoint, source: source, startedAt: startedAt,
                counters: filesystem.readCounters, openImages: filesystem.openBackupIDs,
                requests: requests?.snapshot)
        }
        mount.serve(unmountOnSignals: unmountOnSignals, onReady: onReady)
        filesystem.flushDiskCaches()
        status?.stop()
    }
}

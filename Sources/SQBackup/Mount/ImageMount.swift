import Dispatch
import Foundation
import Logging
import MountFS
import SquashReader
import Storage
import Synchronization

/// Mounts an image read-only through FUSE: opens it, checks the mountpoint, mounts.
public struct ImageMount: Sendable {
    /// Everything `sqbackup mount` can tune.
    public struct Settings: Sendable {
        public var mount = MountOptions()
        public var reader = ReaderOptions()
        /// Where backup ids are looked up.
        public var store = StoreSelection()
        /// Persistent block cache: nil = on for remote images (backups, URLs), off for local files.
        public var diskCacheEnabled: Bool?
        /// nil: `$XDG_CACHE_HOME/sqbackup`, else `~/.cache/sqbackup`.
        public var diskCacheDirectory: String?
        public var diskCacheBytes = 4 << 30
        /// Copy the whole image into the disk cache in the background once mounted.
        public var prefetchAll = false
        /// Check every fetched block (and the metadata, at open) against the backup's digests.
        public var verify = true
        public init() {}
    }

    public let mount: FuseMount
    public let image: SquashImage
    /// Why reads through this mount are unverified; nil when every block is checked.
    public let unverifiedReason: String?
    private let sourceName: String
    /// The requests sent for the image since it was located; nil when they are not counted.
    private let requests: RequestMeter?
    private let logger: Logger
    private let prefetchAll: Bool

    /// Opens `image` (a local image path) and mounts it at `mountpoint`.
    public init(image reference: String, mountpoint: String, settings: Settings, logger: Logger) throws {
        try self.init(image: .file(path: reference), mountpoint: mountpoint, settings: settings, logger: logger)
    }

    /// Opens `image` (a path, an http(s) URL or a backup id) and mounts it at `mountpoint`.
    public init(image reference: ImageReference, mountpoint: String, settings: Settings, logger: Logger) throws {
        let located: LocatedImage
        do {
            located = try ImageLocator.locate(
                reference, store: settings.store, verify: settings.verify, meter: RequestMeter())
        } catch {
            throw BackupError.wrapping(error, as: .mountFailed)
        }
        try self.init(
            located: located, reference: reference, mountpoint: mountpoint, settings: settings, logger: logger)
    }

    /// Mounts an image already located (`reference` names it, for the disk cache and `mount`'s
    /// source column) at `mountpoint`; `settings.store` is not used.
    public init(
        located: LocatedImage, reference: ImageReference, mountpoint: String, settings: Settings, logger: Logger
    ) throws {
        do {
            let source = located.source
            unverifiedReason = located.unverifiedReason
            requests = located.requests
            var reader = settings.reader
            reader.blockDigests = located.blockDigests
            reader.diskCache = try Self.diskCache(
                for: reference, source: source, verified: located.blockDigests != nil, settings: settings,
                logger: logger)
            if settings.prefetchAll && reader.diskCache == nil {
                throw BackupError(
                    .invalidConfig, "prefetching the whole image needs the disk cache, which is off",
                    reason: .prefetchNeedsDiskCache)
            }
            reader.rejectedEntryHandler = { rejected in logger.warning("hidden unsafe entry: \(rejected)") }
            image = try SquashImage.open(source, options: reader)
            prefetchAll = settings.prefetchAll
            var options = settings.mount
            sourceName = Self.fsName(reference, source: source)
            self.logger = logger
            if options.fsName == MountOptions().fsName {
                options.fsName = "sqbackup:" + sourceName
            }
            mount = try FuseMount(
                filesystem: SquashFilesystem(image: image, logger: logger), mountpoint: mountpoint, options: options)
        } catch {
            throw BackupError.wrapping(error, as: .mountFailed)
        }
    }

    /// Serves the mount until it is unmounted, answering `sqbackup status` meanwhile;
    /// `unmountOnSignals` as in `FuseMount.serve`.
    public func serve(unmountOnSignals: Bool = false, onReady: () -> Void) {
        let status = StatusServer(
            mountpoint: mount.mountpoint, source: sourceName, statistics: image.statistics, requests: requests,
            logger: logger)
        let stopping = StopFlag()
        let hydrated = DispatchSemaphore(value: 0)
        mount.serve(unmountOnSignals: unmountOnSignals) {
            onReady()
            guard prefetchAll else { return }
            let image = self.image
            let logger = self.logger
            Thread.detachNewThread { [stopping] in
                defer { hydrated.signal() }
                do {
                    let bytes = try image.hydrate { stopping.isSet }
                    logger.info("hydrated: \(bytes) bytes fetched into the disk cache")
                } catch {
                    logger.error("hydration stopped: \(error)")
                }
            }
        }
        stopping.set()
        if prefetchAll { hydrated.wait() }
        image.flushDiskCache()
        status?.stop()
    }

    /// The disk cache for this image, namespaced by what the image is and its version, so a
    /// replaced object never serves old blocks, and by whether blocks were verified before they
    /// were stored, so a verified mount never takes a block an unverified one cached.
    static func diskCache(
        for reference: ImageReference, source: any RangeSource, verified: Bool, settings: Settings, logger: Logger
    ) throws -> DiskBlockCache? {
        guard settings.diskCacheEnabled ?? !reference.isLocalFile else { return nil }
        let name: String
        switch reference {
        case .file(let path): name = "file:" + path
        case .url(let url): name = "url:" + (url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url)
        case .backup(let id): name = "backup:" + id
        }
        guard let version = source.version else {
            logger.warning("\(source.displayName) has no ETag; not caching it on disk")
            return nil
        }
        let directory = settings.diskCacheDirectory ?? DiskBlockCache.defaultDirectory()
        do {
            return try DiskBlockCache(
                directory: directory, capacityBytes: settings.diskCacheBytes,
                namespace: name + "|" + version + (verified ? "|verified" : ""))
        } catch {
            throw BackupError(.invalidConfig, "disk cache at \(directory): \(error)")
        }
    }

    /// What `mount` shows as the source: the backup id for backups, the source's safe name otherwise.
    private static func fsName(_ reference: ImageReference, source: any RangeSource) -> String {
        if case .backup(let id) = reference { return id }
        return source.displayName
    }
}

/// A one-way flag that tells background work the mount is going away.
private final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}

import Logging
import MountFS
import SquashReader
import Storage

/// Mounts an image read-only through FUSE: opens it, checks the mountpoint, mounts.
public struct ImageMount: Sendable {
    /// Everything `sqbackup mount` can tune.
    public struct Settings: Sendable {
        public var mount = MountOptions()
        public var reader = ReaderOptions()
        /// Where backup ids are looked up.
        public var store = StoreSelection()
        public init() {}
    }

    public let mount: FuseMount
    public let image: SquashImage
    private let sourceName: String
    private let logger: Logger

    /// Opens `image` (a local image path) and mounts it at `mountpoint`.
    public init(image reference: String, mountpoint: String, settings: Settings, logger: Logger) throws {
        try self.init(image: .file(path: reference), mountpoint: mountpoint, settings: settings, logger: logger)
    }

    /// Opens `image` (a path, an http(s) URL or a backup id) and mounts it at `mountpoint`.
    public init(image reference: ImageReference, mountpoint: String, settings: Settings, logger: Logger) throws {
        do {
            let source = try ImageLocator.open(reference, store: settings.store)
            image = try SquashImage.open(source, options: settings.reader)
            for rejected in image.rejectedEntries {
                logger.warning("hidden unsafe entry: \(rejected)")
            }
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

    /// Serves the mount until it is unmounted, answering `sqbackup status` meanwhile.
    public func serve(onReady: () -> Void) {
        let status = StatusServer(
            mountpoint: mount.mountpoint, source: sourceName, statistics: image.statistics, logger: logger)
        mount.serve(onReady: onReady)
        status?.stop()
    }

    /// What `mount` shows as the source: the backup id for backups, the source's safe name otherwise.
    private static func fsName(_ reference: ImageReference, source: any RangeSource) -> String {
        if case .backup(let id) = reference { return id }
        return source.displayName
    }
}

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
        public init() {}
    }

    public let mount: FuseMount
    public let image: SquashImage

    /// Opens `image` (a local image path) and mounts it at `mountpoint`.
    public init(image reference: String, mountpoint: String, settings: Settings, logger: Logger) throws {
        do {
            let source = try ImageLocator.open(reference)
            image = try SquashImage.open(source, options: settings.reader)
            for rejected in image.rejectedEntries {
                logger.warning("hidden unsafe entry: \(rejected)")
            }
            var options = settings.mount
            if options.fsName == MountOptions().fsName { options.fsName = "sqbackup:" + source.displayName }
            mount = try FuseMount(
                filesystem: SquashFilesystem(image: image, logger: logger), mountpoint: mountpoint, options: options)
        } catch {
            throw BackupError.wrapping(error, as: .mountFailed)
        }
    }
}

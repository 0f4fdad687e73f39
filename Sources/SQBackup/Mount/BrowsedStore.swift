import Logging
import MountFS
import SquashReader

/// A store as `mount --all` shows it: names from a `BackupDirectoryListing`, and each backup's
/// image opened the way a single mount by id opens it (its digests checked unless verification is
/// off, the disk cache namespaced by backup as for a single mount).
struct BrowsedStore: BrowserCatalog {
    let listing: BackupDirectoryListing
    /// How each image is opened; `reader.cacheBytes` is one image's share.
    let settings: ImageMount.Settings
    let logger: Logger

    func backupIDs() throws -> [String] { try listing.backupIDs() }

    func datedBackups() throws -> [BrowsedBackup] {
        try listing.backups().map { BrowsedBackup(id: $0.id, createdAt: $0.createdAt, sandboxId: $0.sandboxId) }
    }

    func isVisible(_ id: String) throws -> Bool {
        // A name that is no id never reaches the store.
        guard BackupID.isValid(id) else { return false }
        return try listing.liveMetadata(id) != nil
    }

    func openImage(_ id: String) throws -> SquashImage {
        guard BackupID.isValid(id), let meta = try listing.liveMetadata(id) else {
            throw BackupUnavailable(id: id, reason: "not in the store any more, expired, or filtered out")
        }
        let opened: OpenedBackup
        do {
            opened = try listing.catalog.open(meta, verify: settings.verify)
        } catch let error as BackupError where error.code == .notFound || error.code == .expired {
            throw BackupUnavailable(id: id, reason: error.message)
        }
        if settings.verify && opened.digests == nil {
            logger.warning(
                "reads of backup \(id) are unverified: it was stored without block digests (by an older version or another tool)"
            )
        }
        var reader = settings.reader
        reader.blockDigests = opened.digests
        reader.diskCache = try ImageMount.diskCache(
            for: .backup(id: id), source: opened.source, verified: opened.digests != nil, settings: settings,
            logger: logger)
        let image = try SquashImage.open(opened.source, options: reader)
        for rejected in image.rejectedEntries {
            logger.warning("backup \(id): hidden unsafe entry: \(rejected)")
        }
        return image
    }
}

import CFuse3
import Foundation
import Logging
import SquashReader

#if canImport(Glibc)
    import Glibc
#endif

/// The FUSE face of a whole store: `by-id/<id>/` (each backup's tree), `by-date/<day>/<time>-<id>`
/// and `by-sandbox/<sandbox>/<id>` (symlinks into by-id), and `latest` (a symlink to the newest).
///
/// The browser's own names come from a `BrowserCatalog` and the kernel keeps them for
/// `listingTimeout` seconds only, since backups come and go. Everything inside a backup is
/// delegated to that image's `SquashFilesystem`, opened on first use (`OpenImages`), with the
/// backup's slot taken off the inode number on the way in and put on by the delegate on the way out.
public final class StoreBrowserFilesystem: Sendable {
    let catalog: any BrowserCatalog
    let images: OpenImages
    let inodes = BrowserInodes()
    let logger: Logger
    /// Seconds the kernel may keep the browser's own entries and attributes.
    let listingTimeout: Double
    /// The times the browser's own nodes carry.
    let mountedAt = time(nil)

    /// At most `maxOpen` images stay open once released; names are re-read from `catalog` after
    /// `listingTimeout` seconds.
    public init(
        catalog: any BrowserCatalog, maxOpen: Int, listingTimeout: Double,
        logger: Logger = Logger(label: "sqbackup.mount")
    ) {
        self.catalog = catalog
        self.listingTimeout = listingTimeout
        self.logger = logger
        images = OpenImages(maxOpen: maxOpen, logger: logger) { try catalog.openImage($0) }
    }

    /// The backups whose images are open, most recently used first.
    public var openBackupIDs: [String] { images.openIDs }

    /// What the images opened so far have read.
    public var readCounters: ReaderStatistics.Snapshot { images.counters }

    /// Writes what the open images fetched for the disk cache; for the end of the mount.
    public func flushDiskCaches() { images.flushAll() }

    // MARK: Routing

    /// Calls `body` with the filesystem of the image that composed inode `ino` lies in and the node
    /// id inside it; answers ENOENT or EIO itself when the image can't be opened.
    func withImage(
        _ request: fuse_req_t, _ ino: fuse_ino_t, pin: Bool = false, _ body: (SquashFilesystem, fuse_ino_t) -> Void
    ) {
        let (slot, node) = BrowserInodes.split(ino)
        guard let id = inodes.backupID(ofSlot: slot) else {
            fuse_reply_err(request, ENOENT)
            return
        }
        do {
            body(try images.filesystem(slot: slot, id: id, pin: pin), node)
        } catch {
            fuse_reply_err(request, errorNumber(for: error, opening: id))
        }
    }

    /// ENOENT for a backup that is gone or expired, EIO (logged) for anything else.
    func errorNumber(for error: any Error, opening id: String) -> Int32 {
        if error is BackupUnavailable {
            logger.info("\(error)")
            return ENOENT
        }
        logger.error("opening backup \(id) failed: \(error)")
        return EIO
    }

    static func isBrowserNode(_ ino: fuse_ino_t) -> Bool { BrowserInodes.split(ino).slot == 0 }

    // MARK: Names

    /// What `name` in the browser's directory `directory` is, or nil when there is no such name.
    func child(named name: String, in directory: BrowserNode) throws -> BrowserChild? {
        // by-id/ answers one name without listing them all, and refuses an expired backup.
        if directory == .byID { return try catalog.isVisible(name) ? .backup(name) : nil }
        // Only latest needs the dates (every meta.json); the path to by-id/ must not.
        if directory == .root, name != "latest" { return Self.fixedRootChildren.first { $0.name == name }?.child }
        return try children(of: directory).first { $0.name == name }?.child
    }

    static let fixedRootChildren: [(name: String, child: BrowserChild)] = [
        ("by-date", .node(.byDate)), ("by-id", .node(.byID)), ("by-sandbox", .node(.bySandbox)),
    ]

    /// The entries of one of the browser's directories, in the order readdir gives them.
    func children(of directory: BrowserNode) throws -> [(name: String, child: BrowserChild)] {
        switch directory {
        case .root:
            var names = Self.fixedRootChildren
            if let newest = try catalog.datedBackups().first {
                names.append(("latest", .node(.symlink(path: "latest", target: "by-id/" + newest.id))))
            }
            return names
        case .byID:
            return try catalog.backupIDs().map { ($0, .backup($0)) }
        case .byDate:
            return Set(try catalog.datedBackups().map(\.dayName)).sorted().map { ($0, .node(.day($0))) }
        case .day(let day):
            return try catalog.datedBackups().filter { $0.dayName == day }.map { backup in
                let path = "by-date/\(day)/\(backup.timeName)"
                return (backup.timeName, .node(.symlink(path: path, target: "../../by-id/" + backup.id)))
            }.sorted { $0.0 < $1.0 }
        case .bySandbox:
            return Set(try catalog.datedBackups().compactMap(\.sandboxName)).sorted().map { ($0, .node(.sandbox($0))) }
        case .sandbox(let sandbox):
            return try catalog.datedBackups().filter { $0.sandboxName == sandbox }.map { backup in
                let path = "by-sandbox/\(sandbox)/\(backup.id)"
                return (backup.id, .node(.symlink(path: path, target: "../../by-id/" + backup.id)))
            }.sorted { $0.0 < $1.0 }
        case .symlink:
            return []
        }
    }

    // MARK: Attributes of the browser's own nodes

    func attributes(of node: BrowserNode, number: fuse_ino_t) -> stat {
        var info = stat()
        info.st_ino = ino_t(number)
        if case .symlink(_, let target) = node {
            info.st_mode = S_IFLNK | 0o777
            info.st_nlink = 1
            info.st_size = off_t(target.utf8.count)
        } else {
            info.st_mode = S_IFDIR | 0o555
            info.st_nlink = 2
        }
        info.st_uid = getuid()
        info.st_gid = getgid()
        info.st_blksize = 4096
        let time = timespec(tv_sec: mountedAt, tv_nsec: 0)
        info.st_mtim = time
        info.st_atim = time
        info.st_ctim = time
        return info
    }

    func entry(for node: BrowserNode) -> fuse_entry_param {
        var entry = fuse_entry_param()
        entry.ino = inodes.number(of: node)
        entry.generation = 1
        entry.attr = attributes(of: node, number: entry.ino)
        entry.attr_timeout = listingTimeout
        entry.entry_timeout = listingTimeout
        return entry
    }

    /// by-id/<id>: the image's root, under a name that lasts only until the next refresh.
    func backupRootEntry(_ id: String) throws -> fuse_entry_param {
        let slot = inodes.slot(of: id)
        let filesystem = try images.filesystem(slot: slot, id: id)
        guard let attributes = filesystem.image.attributes(of: SquashImage.rootID) else {
            throw BackupUnavailable(id: id, reason: "its image has no root directory")
        }
        var entry = fuse_entry_param()
        entry.ino = BrowserInodes.compose(slot: slot, node: fuse_ino_t(SquashImage.rootID))
        entry.generation = 1
        filesystem.fillStat(attributes, into: &entry.attr)
        entry.attr_timeout = listingTimeout
        entry.entry_timeout = listingTimeout
        return entry
    }
}

import Foundation
import Logging
import SquashReader

#if canImport(Glibc)
    import Glibc
#endif

/// Materializes an opened image into a directory so that it equals the snapshot, writing only
/// what differs. A missing or empty target is built in a hidden sibling and renamed into place,
/// so a failure or a stop leaves nothing behind; an existing one is changed file by file,
/// atomically, and loses what the snapshot lacks only at the end. Entries that fail on their own
/// are left out and listed in the result (`notRestored`); the rest is restored.
public struct Restorer: Sendable {
    public let image: SquashImage
    public let options: RestoreOptions
    private let logger: Logger

    public init(image: SquashImage, options: RestoreOptions = RestoreOptions(), logger: Logger? = nil) {
        self.image = image
        self.options = options
        self.logger = logger ?? Logger(label: "sqbackup.restore")
    }

    /// Restores into `target` and reports what was done.
    public func restore(into target: String) throws -> RestoreResult {
        let started = ContinuousClock.now
        let target = Self.normalized(target)
        let run: RestoreRun
        let fresh = try Self.isFresh(target)
        do {
            if fresh {
                run = try buildFresh(target)
            } else {
                let root = try DirectoryHandle.open(path: target)
                run = RestoreRun(image: image, options: options, root: root, inPlace: true)
                try run.run()
            }
        } catch RestoreError.interrupted(let why) {
            let state =
                fresh
                ? "\(target) was left as it was"
                : "every entry of \(target) is its old or its restored version, none torn, nothing removed; "
                    + "restore again to finish"
            throw RestoreError.interrupted("\(why); the restore stopped: \(state)")
        }
        let elapsed = ContinuousClock.now - started
        var result = RestoreResult(
            dir: target, filesRestored: run.written.load(ordering: .relaxed),
            filesUnchanged: run.unchanged.load(ordering: .relaxed), filesRemoved: run.removed.load(ordering: .relaxed),
            bytesWritten: UInt64(run.bytesWritten.load(ordering: .relaxed)),
            bytesFetched: image.statistics.snapshot.bytesFetched,
            duration: elapsed / .seconds(1),
            rejected: image.rejectedEntries.map { RestoreWarning(path: $0, kind: .unsafeNameSkipped) } + run.rejected)
        result.verified = image.isVerified
        logger.debug(
            "restored",
            metadata: [
                "dir": "\(target)", "written": "\(result.filesRestored)", "unchanged": "\(result.filesUnchanged)",
                "removed": "\(result.filesRemoved)", "bytes": "\(result.bytesWritten)",
                "fetched": "\(result.bytesFetched)", "requests": "\(image.statistics.snapshot.rangeRequests)",
                "seconds": "\(String(format: "%.3f", result.duration))",
            ])
        return result
    }

    /// A missing target, or an empty real directory (not a symlink to one), is built from scratch.
    static func isFresh(_ target: String) throws -> Bool {
        var info = stat()
        if lstat(target, &info) != 0 {
            guard errno == ENOENT else { throw RestoreError.system("stat", target) }
            return true
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            return try DirectoryHandle.open(path: target).names().isEmpty
        }
        guard stat(target, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw RestoreError("\(target) exists and is not a directory")
        }
        return false
    }

    /// Builds the tree in `.<name>.sqbackup-restore-<pid>-<random>` next to `target`, then renames
    /// it over the (missing or empty) target; removes the sibling on any failure, and the siblings
    /// of earlier restores whose process is gone (killed before it could clean up).
    private func buildFresh(_ target: String) throws -> RestoreRun {
        let parentPath = (target as NSString).deletingLastPathComponent
        let name = Array((target as NSString).lastPathComponent.utf8)
        guard !name.isEmpty, name != [47] else { throw RestoreError("\(target): can't restore over /") }
        try FileManager.default.createDirectory(atPath: parentPath, withIntermediateDirectories: true)
        let parent = try DirectoryHandle.open(path: parentPath)
        let prefix = [46] + name.prefix(200) + Array(".sqbackup-restore-".utf8)
        removeAbandonedSiblings(in: parent, prefix: prefix)
        let sibling =
            prefix + Array("\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))".utf8)
        guard DirectoryHandle.withName(sibling, { mkdirat(parent.fd, $0, 0o700) }) == 0 else {
            throw RestoreError.system("create", parent.display(sibling))
        }
        do {
            let root = try parent.child(sibling, isRoot: true)
            let run = RestoreRun(image: image, options: options, root: root, inPlace: false)
            try run.run()
            let renamed = DirectoryHandle.withName(sibling) { from in
                DirectoryHandle.withName(name) { renameat(parent.fd, from, parent.fd, $0) }
            }
            guard renamed == 0 else {
                throw RestoreError("move the restored tree into \(target): \(String(cString: strerror(errno)))")
            }
            // The rename may touch the directory itself; its mtime is the snapshot's.
            if let attributes = image.attributes(of: SquashImage.rootID) {
                var times = MetadataWriter.times(attributes)
                _ = futimens(root.fd, &times)
            }
            return run
        } catch {
            logger.debug("restore failed; removing the partial tree", metadata: ["error": "\(error)"])
            _ = try? parent.removeTree(sibling)
            throw error
        }
    }

    /// Removes `<prefix><pid>-…` directories whose pid no longer runs. A live pid may be another
    /// restore into the same target right now; its tree is left alone.
    private func removeAbandonedSiblings(in parent: DirectoryHandle, prefix: [UInt8]) {
        for entry in (try? parent.names()) ?? [] where entry.starts(with: prefix) {
            let rest = entry.dropFirst(prefix.count)
            guard let dash = rest.firstIndex(of: 45), let pid = Int32(String(decoding: rest[..<dash], as: UTF8.self)),
                pid > 0, kill(pid, 0) == -1, errno == ESRCH
            else { continue }
            logger.info(
                "removing the partial tree of an interrupted restore", metadata: ["path": "\(parent.display(entry))"])
            _ = try? parent.removeTree(entry)
        }
    }

    private static func normalized(_ path: String) -> String {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL.path
    }
}

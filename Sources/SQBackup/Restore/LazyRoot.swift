import Crypto
import Foundation
import Restore

#if canImport(Glibc)
    import Glibc
#endif

/// An instant, writable restore (a template root): the backup mounted lazily and read-only as the
/// lower layer, kernel overlayfs on top at the target, the upper and work directories in a state
/// directory of their own. Writes stay local; `sqbackup unmount TARGET` tears all of it down.
public struct LazyRoot: Sendable, Codable, Equatable {
    /// Where the root appears.
    public var target: String
    /// What is mounted underneath (a backup id, URL without its query, or an image path).
    public var image: String
    /// Holds `lower/` (the FUSE mount), `upper/`, `work/` and this record.
    public var stateDirectory: String
    public var createdAt: Date
    /// The target did not exist and was created for the root (removed again at teardown).
    public var createdTarget: Bool
    /// Mounted without nosuid/nodev: the image's setuid bits and devices count (`--preserve-setuid`).
    public var trusted: Bool?

    public var lower: String { stateDirectory + "/lower" }
    public var upper: String { stateDirectory + "/upper" }
    public var work: String { stateDirectory + "/work" }
    var recordPath: String { stateDirectory + "/root.json" }
    var hydrationPath: String { stateDirectory + "/hydration.json" }
    /// The mount daemon's log (it runs detached).
    public var mountLog: String { stateDirectory + "/mount.log" }

    var overlay: OverlayMount { OverlayMount(target: target, lower: lower, upper: upper, work: work) }

    /// The root's overlay is mounted at its target now.
    public var isMounted: Bool { overlay.isMounted }

    /// The lock file that serializes restores and teardowns of one target.
    var lockPath: String { stateDirectory + ".lock" }

    /// Where lazy roots keep their state: `$SQBACKUP_STATE_DIR`, else `$XDG_STATE_HOME/sqbackup`,
    /// else `~/.local/state/sqbackup`. It must be on a filesystem overlayfs accepts as an upper
    /// layer (ext4, xfs, btrfs, tmpfs; not overlayfs itself).
    public static func stateRoot(environment: [String: String]) -> String {
        let chosen: String
        if let explicit = environment["SQBACKUP_STATE_DIR"], !explicit.isEmpty {
            chosen = explicit
        } else if let state = environment["XDG_STATE_HOME"], !state.isEmpty {
            chosen = state + "/sqbackup"
        } else {
            chosen =
                (environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()) + "/.local/state/sqbackup"
        }
        // Absolute: the hydrator runs from "/", and `unmount` may run from anywhere.
        return URL(fileURLWithPath: chosen).standardizedFileURL.path
    }

    /// `path` with its parent directory's symlinks resolved, so that a root is found under the
    /// same name however its target is spelled. The last component is kept as given (it may not exist yet).
    public static func canonical(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let parent = url.deletingLastPathComponent().path
        guard let resolved = realpath(parent, nil) else { return url.path }
        defer { free(resolved) }
        let base = String(cString: resolved)
        return (base == "/" ? "" : base) + "/" + url.lastPathComponent
    }

    /// Root deletes and mounts inside the state root, so no one else may be able to change it:
    /// every existing directory on its path must belong to root or to us, and be writable by
    /// others only when sticky (like /tmp).
    static func checkStateRoot(_ stateRoot: String) throws {
        var path = stateRoot
        while true {
            var info = stat()
            if lstat(path, &info) == 0 {
                let kind = info.st_mode & S_IFMT
                let othersWrite = info.st_mode & (S_IWGRP | S_IWOTH) != 0 && info.st_mode & S_ISVTX == 0
                if (kind != S_IFDIR && kind != S_IFLNK) || (info.st_uid != 0 && info.st_uid != geteuid())
                    || (kind == S_IFDIR && othersWrite)
                {
                    throw BackupError(
                        .invalidConfig,
                        "state directory \(stateRoot): \(path) can be changed by other users; "
                            + "set SQBACKUP_STATE_DIR to a directory only root can write")
                }
            }
            if path == "/" || path.isEmpty { return }
            path = (path as NSString).deletingLastPathComponent
        }
    }

    /// The state directory of the root at `target`: one per target path.
    static func stateDirectory(for target: String, stateRoot: String) -> String {
        let digest = SHA256.hash(data: Data(target.utf8)).map { String(format: "%02x", $0) }.joined()
        return stateRoot + "/roots/" + digest.prefix(20)
    }

    /// The lazy root mounted at `target`, if there is one (its record exists).
    public static func find(target: String, stateRoot: String) -> LazyRoot? {
        let path = stateDirectory(for: target, stateRoot: stateRoot) + "/root.json"
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard var root = try? decoder.decode(LazyRoot.self, from: data), root.target == target else { return nil }
        // Where its state lives follows from the target; a stored path is never trusted.
        root.stateDirectory = stateDirectory(for: target, stateRoot: stateRoot)
        return root
    }

    /// Every lazy root with a record under `stateRoot`.
    public static func all(stateRoot: String) -> [LazyRoot] {
        let directory = stateRoot + "/roots"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return names.sorted().compactMap { name in
            FileManager.default.contents(atPath: directory + "/" + name + "/root.json").flatMap {
                try? decoder.decode(LazyRoot.self, from: $0)
            }.flatMap { find(target: $0.target, stateRoot: stateRoot) }
        }
    }

    func saveRecord() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try encoder.encode(self).write(to: URL(fileURLWithPath: recordPath), options: .atomic)
    }

    /// The hydration's progress as last written by the hydrating process, if one ran.
    public var hydration: HydrationState? {
        guard let data = FileManager.default.contents(atPath: hydrationPath) else { return nil }
        return try? JSONDecoder().decode(HydrationState.self, from: data)
    }
}

/// What the background hydration of a lazy root writes for `status` and `unmount`.
public struct HydrationState: Sendable, Codable, Equatable {
    /// The hydrating process (stopped by `unmount`).
    public var pid: Int32
    public var progress: HydrationProgress

    public init(pid: Int32, progress: HydrationProgress) {
        self.pid = pid
        self.progress = progress
    }
}

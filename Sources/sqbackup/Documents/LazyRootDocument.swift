import Foundation
import SQBackup

/// A lazy root as `status --json` shows it: where it is, what is under it, how far hydration got.
struct LazyRootDocument: Encodable {
    /// How far the background copy-up got, and whether its process still runs.
    struct Hydration: Encodable {
        /// `running`, `stopped` (its process is gone before the end) or `done`.
        var state: String
        var pid: Int32
        var filesDone: Int
        var filesTotal: Int
        var bytesDone: UInt64
        var bytesTotal: UInt64
        /// Entries that could not be copied up, with the reason; they keep reading from the snapshot.
        var failed: [String]
    }

    var target: String
    /// The backup id, image path or URL without its query.
    var image: String
    /// The read-only mount under the overlay, as `mounts[].mountpoint` names it.
    var lower: String
    var upper: String
    var stateDirectory: String
    var createdAt: Date
    /// Whether the overlay is mounted at the target (false after a reboot or a killed restore).
    var mounted: Bool
    /// Mounted without nosuid/nodev (`--preserve-setuid`).
    var trusted: Bool
    /// Absent unless `--hydrate` started a copy-up.
    var hydration: Hydration?

    init(_ root: LazyRoot) {
        target = root.target
        image = root.image
        lower = root.lower
        upper = root.upper
        stateDirectory = root.stateDirectory
        createdAt = root.createdAt
        mounted = root.isMounted
        trusted = root.trusted ?? false
        hydration = root.hydration.map { hydration in
            let progress = hydration.progress
            return Hydration(
                state: Self.state(of: hydration, in: root), pid: hydration.pid, filesDone: progress.filesDone,
                filesTotal: progress.filesTotal, bytesDone: progress.bytesDone, bytesTotal: progress.bytesTotal,
                failed: progress.failed)
        }
    }

    /// `done`, `running` or `stopped`: the words `status` prints too.
    static func state(of hydration: HydrationState, in root: LazyRoot) -> String {
        if hydration.progress.finished { return "done" }
        return LazyRestore.isHydrator(hydration.pid, of: root) ? "running" : "stopped"
    }
}

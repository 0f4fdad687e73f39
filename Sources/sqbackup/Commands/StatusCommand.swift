import ArgumentParser
import Foundation
import SQBackup

/// `sqbackup status [MOUNTPOINT]`: what each running mount daemon has fetched and cached.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show running mounts: requests sent, bytes fetched, cache hits, latency.")

    @Argument(help: "Only this mountpoint.")
    var mountpoint: String?

    @OptionGroup var outputFlags: OutputFlags

    func run() throws {
        Console.start(outputFlags)
        try CommandSupport.reporting {
            var statuses = StatusChannel.query()
            var roots = LazyRoot.all(stateRoot: LazyRoot.stateRoot(environment: ProcessInfo.processInfo.environment))
            if let mountpoint {
                var wanted = CommandSupport.absolute(mountpoint)
                // A lazy root answers for the mount under it.
                roots = roots.filter { $0.target == LazyRoot.canonical(wanted) }
                if let root = roots.first {
                    wanted = root.lower
                    if !outputFlags.json { Console.result(describe(root)) }
                }
                statuses = statuses.filter { $0.mountpoint == wanted }
                guard !statuses.isEmpty else {
                    throw BackupError(.notFound, "no sqbackup mount at \(wanted) (see `sqbackup status`)")
                }
            }
            if outputFlags.json {
                return try Console.document(
                    StatusDocument(mounts: statuses, lazyRoots: roots.map(LazyRootDocument.init)))
            }
            if mountpoint == nil {
                for root in roots { Console.result(describe(root)) }
            }
            if statuses.isEmpty { Console.info("no sqbackup mounts are running") }
            for status in statuses {
                let ratio = status.cacheHitRatio.map { String(format: "%.1f%%", $0 * 100) } ?? "-"
                func milliseconds(_ value: Double?) -> String {
                    value.map { String(format: "%.1fms", $0 * 1000) } ?? "-"
                }
                let failed = status.failedRequests.map { " (\($0) failed)" } ?? ""
                Console.result(
                    """
                    \(status.mountpoint)  (pid \(status.pid), \(status.source))
                      requests \(status.rangeRequests)\(failed)  in flight \(status.requestsInFlight)  fetched \(status.bytesFetched) bytes
                      cache hits \(ratio)  prefetched blocks \(status.prefetchedBlocks)  corrupt blocks \(status.corruptBlocks)
                      latency p50 \(milliseconds(status.latencyP50))  p90 \(milliseconds(status.latencyP90))  p99 \(milliseconds(status.latencyP99))
                    """)
                if let open = status.openImages {
                    print("  open images (\(open.count)): " + (open.isEmpty ? "none" : open.joined(separator: " ")))
                }
            }
        }
    }

    /// A lazy root and how far its hydration got.
    private func describe(_ root: LazyRoot) -> String {
        var text = "\(root.target)  lazy root of \(root.image), mounted on \(root.lower), writes in \(root.upper)"
        if !root.isMounted {
            text += "\n  not mounted (left by a reboot or a killed restore; `sqbackup unmount` clears it)"
        }
        if let hydration = root.hydration {
            let progress = hydration.progress
            var state = LazyRootDocument.state(of: hydration, in: root)
            if state == "running" { state += " (pid \(hydration.pid))" }
            text +=
                "\n  hydration \(state): \(progress.filesDone)/\(progress.filesTotal) files, "
                + "\(progress.bytesDone)/\(progress.bytesTotal) bytes"
                + (progress.failed.isEmpty ? "" : ", \(progress.failed.count) failed")
        }
        return text
    }
}

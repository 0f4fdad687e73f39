import ArgumentParser
import Foundation
import SQBackup

/// `sqbackup status [MOUNTPOINT]`: what each running mount daemon has fetched and cached.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show running mounts: requests, bytes fetched, cache hits, latency.")

    @Argument(help: "Only this mountpoint.")
    var mountpoint: String?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        try CommandSupport.reporting {
            var statuses = StatusChannel.query()
            if let mountpoint {
                let wanted = CommandSupport.absolute(mountpoint)
                statuses = statuses.filter { $0.mountpoint == wanted }
                guard !statuses.isEmpty else {
                    throw BackupError(.notFound, "no sqbackup mount at \(wanted) (see `sqbackup status`)")
                }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                encoder.dateEncodingStrategy = .iso8601
                print(String(decoding: try encoder.encode(statuses), as: UTF8.self))
                return
            }
            if statuses.isEmpty { print("no sqbackup mounts are running") }
            for status in statuses {
                let ratio = status.cacheHitRatio.map { String(format: "%.1f%%", $0 * 100) } ?? "-"
                func milliseconds(_ value: Double?) -> String {
                    value.map { String(format: "%.1fms", $0 * 1000) } ?? "-"
                }
                print(
                    """
                    \(status.mountpoint)  (pid \(status.pid), \(status.source))
                      requests \(status.rangeRequests)  in flight \(status.requestsInFlight)  fetched \(status.bytesFetched) bytes
                      cache hits \(ratio)  prefetched blocks \(status.prefetchedBlocks)  corrupt blocks \(status.corruptBlocks)
                      latency p50 \(milliseconds(status.latencyP50))  p90 \(milliseconds(status.latencyP90))  p99 \(milliseconds(status.latencyP99))
                    """)
            }
        }
    }
}

import Foundation
import MountFS
import SquashReader

/// What a running mount daemon reports to `sqbackup status`.
public struct MountStatus: Codable, Sendable, Equatable {
    public var pid: Int32
    public var mountpoint: String
    public var source: String
    public var startedAt: Date
    public var rangeRequests: Int
    public var bytesFetched: Int
    public var requestsInFlight: Int
    public var cacheHits: Int
    public var cacheMisses: Int
    public var prefetchedBlocks: Int
    public var corruptBlocks: Int
    /// Latency of range requests in seconds (upper bounds of histogram buckets).
    public var latencyP50: Double?
    public var latencyP90: Double?
    public var latencyP99: Double?
    /// For a mount of every backup (`mount --all`): the backups whose images are open, most
    /// recently used first; absent for a mount of one image.
    public var openImages: [String]?

    /// Hits over all block lookups, or nil before the first read.
    public var cacheHitRatio: Double? {
        let total = cacheHits + cacheMisses
        return total == 0 ? nil : Double(cacheHits) / Double(total)
    }

    init(pid: Int32, mountpoint: String, source: String, startedAt: Date, statistics: ReaderStatistics) {
        let snapshot = statistics.snapshot
        self.pid = pid
        self.mountpoint = mountpoint
        self.source = source
        self.startedAt = startedAt
        rangeRequests = snapshot.rangeRequests
        bytesFetched = snapshot.bytesFetched
        requestsInFlight = snapshot.requestsInFlight
        cacheHits = snapshot.cacheHits
        cacheMisses = snapshot.cacheMisses
        prefetchedBlocks = snapshot.prefetchedBlocks
        corruptBlocks = snapshot.corruptBlocks
        latencyP50 = statistics.latencyPercentile(0.5)
        latencyP90 = statistics.latencyPercentile(0.9)
        latencyP99 = statistics.latencyPercentile(0.99)
    }

    /// A store browser's status: reads summed over its images (no latency percentiles, which are
    /// kept per image), and the images open now.
    init(
        pid: Int32, mountpoint: String, source: String, startedAt: Date, counters: ReadCounters, openImages: [String]
    ) {
        self.pid = pid
        self.mountpoint = mountpoint
        self.source = source
        self.startedAt = startedAt
        rangeRequests = counters.rangeRequests
        bytesFetched = counters.bytesFetched
        requestsInFlight = counters.requestsInFlight
        cacheHits = counters.cacheHits
        cacheMisses = counters.cacheMisses
        prefetchedBlocks = counters.prefetchedBlocks
        corruptBlocks = counters.corruptBlocks
        self.openImages = openImages
    }
}

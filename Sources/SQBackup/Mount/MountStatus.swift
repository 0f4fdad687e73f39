import Foundation
import MountFS
import SquashReader
import Storage

/// What a running mount daemon reports to `sqbackup status`.
public struct MountStatus: Codable, Sendable, Equatable {
    public var pid: Int32
    public var mountpoint: String
    public var source: String
    public var startedAt: Date
    /// Requests the daemon sent to the store or URL (opening the image and every retry included;
    /// answers from its caches or from bytes kept at open are none), and what they brought back.
    public var rangeRequests: Int
    public var bytesFetched: Int
    public var requestsInFlight: Int
    /// Of `rangeRequests`, those that failed (no answer, or an HTTP error status); nil when the
    /// daemon does not count its requests itself.
    public var failedRequests: Int?
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

    /// One image's status: request counts from `requests` (what was sent for the image) when
    /// given, else from the reader's own count of the reads it sent its source.
    init(
        pid: Int32, mountpoint: String, source: String, startedAt: Date, statistics: ReaderStatistics,
        requests: RequestMeter.Snapshot? = nil
    ) {
        self.init(
            pid: pid, mountpoint: mountpoint, source: source, startedAt: startedAt, counters: statistics.snapshot)
        latencyP50 = statistics.latencyPercentile(0.5)
        latencyP90 = statistics.latencyPercentile(0.9)
        latencyP99 = statistics.latencyPercentile(0.99)
        if let requests { count(requests) }
    }

    /// A store browser's status: reads summed over its images (no latency percentiles, which are
    /// kept per image), and the images open now.
    init(
        pid: Int32, mountpoint: String, source: String, startedAt: Date, counters: ReaderStatistics.Snapshot,
        openImages: [String], requests: RequestMeter.Snapshot? = nil
    ) {
        self.init(pid: pid, mountpoint: mountpoint, source: source, startedAt: startedAt, counters: counters)
        self.openImages = openImages
        if let requests { count(requests) }
    }

    private init(pid: Int32, mountpoint: String, source: String, startedAt: Date, counters: ReaderStatistics.Snapshot) {
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
    }

    /// Takes the request counts from what the daemon's own meter saw.
    private mutating func count(_ requests: RequestMeter.Snapshot) {
        rangeRequests = requests.requests
        failedRequests = requests.failedRequests
        bytesFetched = requests.bytesReceived
        requestsInFlight = requests.inFlight
        latencyP50 = requests.latencyP50
        latencyP90 = requests.latencyP90
        latencyP99 = requests.latencyP99
    }
}

import Synchronization

/// Counters of the data path, read by `sqbackup status` and by tests.
public final class ReaderStatistics: Sendable {
    let cacheHits = Atomic<Int>(0)
    let cacheMisses = Atomic<Int>(0)
    let rangeRequests = Atomic<Int>(0)
    let bytesFetched = Atomic<Int>(0)
    /// Blocks that did not decode or failed their digest check (served to no one).
    let corruptBlocks = Atomic<Int>(0)
    let prefetchedBlocks = Atomic<Int>(0)
    let requestsInFlight = Atomic<Int>(0)
    let diskCacheHits = Atomic<Int>(0)
    let metadataBlocksDecoded = Atomic<Int>(0)
    /// Request latency histogram: bucket i counts requests that took < 2^i * 100 µs.
    private let latencyBuckets = Mutex([Int](repeating: 0, count: 24))

    func recordLatency(seconds: Double) {
        var bucket = 0
        var limit = 0.000_1
        while seconds >= limit && bucket < 23 {
            bucket += 1
            limit *= 2
        }
        latencyBuckets.withLock { $0[bucket] += 1 }
    }

    /// The latency under which `fraction` of range requests completed (upper bucket bound), in seconds.
    public func latencyPercentile(_ fraction: Double) -> Double? {
        let buckets = latencyBuckets.withLock { $0 }
        let total = buckets.reduce(0, +)
        guard total > 0 else { return nil }
        var seen = 0
        for (index, count) in buckets.enumerated() {
            seen += count
            if Double(seen) >= fraction * Double(total) { return 0.000_1 * pow2(index) }
        }
        return 0.000_1 * pow2(23)
    }

    private func pow2(_ exponent: Int) -> Double { Double(1 << exponent) }

    /// Metadata blocks (inode and directory tables) decompressed so far: a walk of the whole tree
    /// decompresses each about once when the metadata cache holds the blocks it is using.
    public var metadataBlocks: Int { metadataBlocksDecoded.load(ordering: .relaxed) }

    /// A consistent-enough copy of the counters.
    public struct Snapshot: Sendable, Codable, Equatable {
        public var cacheHits: Int
        public var cacheMisses: Int
        public var rangeRequests: Int
        public var bytesFetched: Int
        public var corruptBlocks: Int
        public var prefetchedBlocks: Int
        public var requestsInFlight: Int
        public var diskCacheHits: Int

        /// Nothing counted yet: where sums over several images start.
        public static let zero = Snapshot(
            cacheHits: 0, cacheMisses: 0, rangeRequests: 0, bytesFetched: 0, corruptBlocks: 0, prefetchedBlocks: 0,
            requestsInFlight: 0, diskCacheHits: 0)

        /// Adds another image's counts (a store browser sums its images').
        public mutating func add(_ other: Snapshot) {
            cacheHits += other.cacheHits
            cacheMisses += other.cacheMisses
            rangeRequests += other.rangeRequests
            bytesFetched += other.bytesFetched
            corruptBlocks += other.corruptBlocks
            prefetchedBlocks += other.prefetchedBlocks
            requestsInFlight += other.requestsInFlight
            diskCacheHits += other.diskCacheHits
        }
    }

    public var snapshot: Snapshot {
        Snapshot(
            cacheHits: cacheHits.load(ordering: .relaxed), cacheMisses: cacheMisses.load(ordering: .relaxed),
            rangeRequests: rangeRequests.load(ordering: .relaxed), bytesFetched: bytesFetched.load(ordering: .relaxed),
            corruptBlocks: corruptBlocks.load(ordering: .relaxed),
            prefetchedBlocks: prefetchedBlocks.load(ordering: .relaxed),
            requestsInFlight: requestsInFlight.load(ordering: .relaxed),
            diskCacheHits: diskCacheHits.load(ordering: .relaxed))
    }
}

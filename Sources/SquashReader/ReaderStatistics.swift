import Synchronization

/// Counters of the data path, read by `sqbackup status` and by tests.
public final class ReaderStatistics: Sendable {
    let cacheHits = Atomic<Int>(0)
    let cacheMisses = Atomic<Int>(0)
    let rangeRequests = Atomic<Int>(0)
    let bytesFetched = Atomic<Int>(0)
    let corruptBlocks = Atomic<Int>(0)
    let prefetchedBlocks = Atomic<Int>(0)

    /// A consistent-enough copy of the counters.
    public struct Snapshot: Sendable, Codable, Equatable {
        public var cacheHits: Int
        public var cacheMisses: Int
        public var rangeRequests: Int
        public var bytesFetched: Int
        public var corruptBlocks: Int
        public var prefetchedBlocks: Int
    }

    public var snapshot: Snapshot {
        Snapshot(
            cacheHits: cacheHits.load(ordering: .relaxed), cacheMisses: cacheMisses.load(ordering: .relaxed),
            rangeRequests: rangeRequests.load(ordering: .relaxed), bytesFetched: bytesFetched.load(ordering: .relaxed),
            corruptBlocks: corruptBlocks.load(ordering: .relaxed),
            prefetchedBlocks: prefetchedBlocks.load(ordering: .relaxed))
    }
}

import SquashReader

/// Read statistics summed over the images a store browser has opened, closed ones included.
public struct ReadCounters: Sendable, Equatable {
    public var rangeRequests = 0
    public var bytesFetched = 0
    public var requestsInFlight = 0
    public var cacheHits = 0
    public var cacheMisses = 0
    public var prefetchedBlocks = 0
    public var corruptBlocks = 0

    public init() {}

    mutating func add(_ snapshot: ReaderStatistics.Snapshot) {
        rangeRequests += snapshot.rangeRequests
        bytesFetched += snapshot.bytesFetched
        requestsInFlight += snapshot.requestsInFlight
        cacheHits += snapshot.cacheHits
        cacheMisses += snapshot.cacheMisses
        prefetchedBlocks += snapshot.prefetchedBlocks
        corruptBlocks += snapshot.corruptBlocks
    }
}

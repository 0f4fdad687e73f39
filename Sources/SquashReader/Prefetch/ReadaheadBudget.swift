import Synchronization

/// Shares the memory cache among the files being streamed at once: blocks fetched ahead wait
/// unread in the cache, and if all readers' windows together came near its size, blocks would be
/// evicted before they were read and fetched again. Every streaming reader's window is capped
/// at an equal share of half the cache.
final class ReadaheadBudget: Sendable {
    private let totalBytes: Int
    private let streams = Atomic<Int>(0)

    init(cacheBytes: Int) {
        totalBytes = cacheBytes / 2
    }

    /// A reader starts streaming (its readahead window opens).
    func join() { streams.add(1, ordering: .relaxed) }

    /// A reader stops streaming (a random read, or the file is closed).
    func leave() { streams.subtract(1, ordering: .relaxed) }

    /// The largest window one streaming reader may keep now.
    var share: Int { totalBytes / max(1, streams.load(ordering: .relaxed)) }
}

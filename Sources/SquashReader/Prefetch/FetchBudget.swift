import Foundation

/// Bounds the bytes of range reads under way at once, from the request until the body is cut
/// into blocks and decompressed. Without it, every reader, readahead batch and fan-out thread
/// holds an 8 MiB body of its own, and several files streamed at once took the daemon's memory
/// far past its cache; with it, concurrent readers wait for a slot instead of allocating.
final class FetchBudget: @unchecked Sendable {
    /// Most bytes under way; one request larger than this still goes, alone.
    let limitBytes: Int
    // `inUse` is guarded by `condition`'s lock, hence @unchecked Sendable.
    private let condition = NSCondition()
    private var inUse = 0

    init(limitBytes: Int) {
        self.limitBytes = max(limitBytes, 1)
    }

    /// The budget of a reader whose memory cache holds `cacheBytes`: a quarter of it, and at
    /// least one request of `requestBytes`, so a small cache still streams.
    convenience init(cacheBytes: Int, requestBytes: Int) {
        self.init(limitBytes: max(cacheBytes / 4, requestBytes))
    }

    /// Runs `body` once `bytes` fit in the budget, holding them until it returns.
    func spending<T>(_ bytes: Int, _ body: () throws -> T) rethrows -> T {
        acquire(bytes)
        defer { release(bytes) }
        return try body()
    }

    private func acquire(_ bytes: Int) {
        condition.lock()
        defer { condition.unlock() }
        while inUse > 0 && inUse + bytes > limitBytes { condition.wait() }
        inUse += bytes
    }

    private func release(_ bytes: Int) {
        condition.lock()
        inUse -= bytes
        condition.broadcast()
        condition.unlock()
    }
}

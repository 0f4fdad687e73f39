import Synchronization

/// Reads one open file of an image and keeps a readahead window ahead of sequential readers:
/// it starts after the second read in a row at the initial size, then grows with what the reader
/// has taken (twice that: it doubles each time half a window's worth is read) up to a cap, so a
/// reader that stops early leaves at most about twice as much fetched and unread as it read. The cap is also the
/// reader's share of the image's `ReadaheadBudget`. A random read resets it and fetches only the
/// blocks it needs.
public final class FileReader: Sendable {
    private struct Stream {
        var expectedNext: UInt64 = 0
        var sequentialRun = 0
        /// Bytes read in the current sequential run (what was skipped inside the slack is not).
        var taken = 0
        var prefetchedUntil: UInt64 = 0
        /// Counted in the image's readahead budget.
        var streaming = false
    }

    public let id: NodeID
    private let image: SquashImage
    private let initialWindow: Int
    private let maxWindow: Int
    private let budget: ReadaheadBudget
    private let stream = Mutex(Stream())
    /// The kernel issues readahead requests from several threads, so "sequential" tolerates
    /// requests that arrive slightly out of order.
    private let slack: UInt64 = 4 << 20
    /// The size of one readahead request once the window is large (the fetcher's merge limit).
    static let refillStep = 8 << 20

    init(image: SquashImage, id: NodeID, initialWindow: Int, maxWindow: Int, budget: ReadaheadBudget) {
        self.image = image
        self.id = id
        self.initialWindow = initialWindow
        self.maxWindow = maxWindow
        self.budget = budget
    }

    deinit {
        if stream.withLock({ $0.streaming }) { budget.leave() }
    }

    public func read(offset: UInt64, length: Int) throws -> [UInt8] {
        SquashImage.joined(try readPieces(offset: offset, length: length))
    }

    /// `read` as slices of the cached blocks (see `SquashImage.readPieces`).
    public func readPieces(offset: UInt64, length: Int) throws -> [ArraySlice<UInt8>] {
        let end = offset + UInt64(length)
        let plan: (UInt64, Int)? = stream.withLock { stream in
            let sequential =
                offset + slack >= stream.expectedNext && offset <= stream.expectedNext + slack
                && stream.expectedNext > 0
            if sequential || (offset == 0 && stream.expectedNext == 0) {
                stream.sequentialRun += 1
                stream.taken += length
                stream.expectedNext = max(stream.expectedNext, end)
            } else {
                if stream.streaming {
                    budget.leave()
                    stream.streaming = false
                }
                stream.sequentialRun = 0
                stream.taken = length
                stream.prefetchedUntil = 0
                // From here, not from the furthest point reached: a reader that seeks back can
                // stream again.
                stream.expectedNext = end
            }
            guard maxWindow > 0, stream.sequentialRun >= 2 else { return nil }
            if !stream.streaming {
                budget.join()
                stream.streaming = true
            }
            let cap = min(maxWindow, max(initialWindow, budget.share))
            // Twice what was taken, not once: the window reaches the cap twice as early, and the
            // start of a 1 GiB read at 5 Gbit/s is ~3% faster (4x was no faster).
            let window = min(cap, max(initialWindow, 2 * stream.taken))
            let start = max(end, stream.prefetchedUntil)
            let target = end + UInt64(window)
            // Top the window up once a full request's worth of it has been consumed: requests stay
            // large, and a steady stream of them stays in flight. Refilling only at half a window
            // sends bursts of a few requests whose slowest one the reader then waits for.
            let step = UInt64(min(window / 2, Self.refillStep))
            guard target > start, stream.prefetchedUntil + step <= target else { return nil }
            stream.prefetchedUntil = target
            return (start, Int(target - start))
        }
        if let (start, count) = plan { image.prefetch(id, offset: start, length: count) }
        return try image.readPieces(id, offset: offset, length: length)
    }
}

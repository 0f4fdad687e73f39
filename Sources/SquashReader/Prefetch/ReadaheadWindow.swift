import Storage

/// The readahead state of one open file: it opens after the second sequential read in a row at
/// the initial size, then grows with what the reader has taken (twice that: it doubles each
/// time half a window's worth is read) up to a cap, so a reader that stops early leaves at most
/// about twice as much fetched and unread as it read. The cap is also the reader's share of the
/// image's `ReadaheadBudget`. A random read closes it, and that read fetches only what it needs.
struct ReadaheadWindow {
    /// The kernel issues readahead requests from several threads, so "sequential" tolerates
    /// requests that arrive slightly out of order.
    static let slack: UInt64 = 4 << 20
    /// The size of one readahead request once the window is large (the fetcher's merge limit).
    static let refillStep = 8 << 20

    let initial: Int
    /// 0 disables readahead.
    let maximum: Int
    private var expectedNext: UInt64 = 0
    private var sequentialRun = 0
    /// Bytes read in the current sequential run (what was skipped inside the slack is not).
    private var taken = 0
    private var prefetchedUntil: UInt64 = 0
    /// Counted in the image's readahead budget.
    private(set) var streaming = false

    init(initial: Int, maximum: Int) {
        self.initial = initial
        self.maximum = maximum
    }

    /// Takes note of a read of `length` bytes at `offset`; returns the range to fetch ahead of
    /// it, if the window needs topping up. Joins and leaves `budget` as the file starts and
    /// stops streaming.
    mutating func advance(offset: UInt64, length: Int, budget: ReadaheadBudget) -> ByteRange? {
        let end = offset + UInt64(length)
        let sequential =
            offset + Self.slack >= expectedNext && offset <= expectedNext + Self.slack && expectedNext > 0
        if sequential || (offset == 0 && expectedNext == 0) {
            sequentialRun += 1
            taken += length
            expectedNext = max(expectedNext, end)
        } else {
            if streaming {
                budget.leave()
                streaming = false
            }
            sequentialRun = 0
            taken = length
            prefetchedUntil = 0
            // From here, not from the furthest point reached: a reader that seeks back can
            // stream again.
            expectedNext = end
        }
        guard maximum > 0, sequentialRun >= 2 else { return nil }
        if !streaming {
            budget.join()
            streaming = true
        }
        let cap = min(maximum, max(initial, budget.share))
        // Twice what was taken, not once: the window reaches the cap twice as early, and the
        // start of a 1 GiB read at 5 Gbit/s is ~3% faster (4x was no faster).
        let window = min(cap, max(initial, 2 * taken))
        let start = max(end, prefetchedUntil)
        let target = end + UInt64(window)
        // Top the window up once a full request's worth of it has been consumed: requests stay
        // large, and a steady stream of them stays in flight. Refilling only at half a window
        // sends bursts of a few requests whose slowest one the reader then waits for.
        let step = UInt64(min(window / 2, Self.refillStep))
        guard target > start, prefetchedUntil + step <= target else { return nil }
        prefetchedUntil = target
        return ByteRange(offset: start, length: Int(target - start))
    }
}

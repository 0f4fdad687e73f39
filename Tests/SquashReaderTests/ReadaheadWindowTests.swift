import Storage
import Testing

@testable import SquashReader

@Suite("ReadaheadWindow: the per-file window that grows")
struct ReadaheadWindowTests {
    /// 1 MiB initial window, 128 MiB cap, a budget from a 256 MiB cache (the default options).
    let budget = ReadaheadBudget(cacheBytes: 256 << 20)

    @Test("the window opens on the second sequential read, at the initial size")
    func opensOnSecondRead() {
        var window = ReadaheadWindow(initial: 1 << 20, maximum: 128 << 20)
        #expect(window.advance(offset: 0, length: 131_072, budget: budget) == nil)
        #expect(!window.streaming)
        let ahead = window.advance(offset: 131_072, length: 131_072, budget: budget)
        #expect(ahead == ByteRange(offset: 262_144, length: 1 << 20))
        #expect(window.streaming)
        #expect(budget.share == 128 << 20)
    }

    @Test("the window grows to twice what was read, up to the cap, refilled a request at a time")
    func growsWithWhatWasRead() {
        var window = ReadaheadWindow(initial: 1 << 20, maximum: 16 << 20)
        var taken = 0
        var windows = [Int]()
        for offset in stride(from: UInt64(0), to: 64 << 20, by: 131_072) {
            taken += 131_072
            guard let ahead = window.advance(offset: offset, length: 131_072, budget: budget) else { continue }
            let window = Int(ahead.end - (offset + 131_072))
            #expect(window == min(16 << 20, max(1 << 20, 2 * taken)))
            windows.append(window)
            if window == 16 << 20 { #expect(ahead.length >= ReadaheadWindow.refillStep) }
        }
        #expect(windows.first == 1 << 20)
        #expect(windows.last == 16 << 20)
    }

    @Test("a random read closes the window and leaves the budget")
    func randomReadCloses() {
        budget.join()  // another file streaming
        var window = ReadaheadWindow(initial: 1 << 20, maximum: 128 << 20)
        _ = window.advance(offset: 0, length: 4096, budget: budget)
        _ = window.advance(offset: 4096, length: 4096, budget: budget)
        #expect(window.streaming)
        #expect(budget.share == 64 << 20)
        #expect(window.advance(offset: 100 << 20, length: 4096, budget: budget) == nil)
        #expect(!window.streaming)
        #expect(budget.share == 128 << 20)
    }

    @Test("a zero maximum disables readahead")
    func zeroMaximumDisables() {
        var window = ReadaheadWindow(initial: 1 << 20, maximum: 0)
        for index in 0..<8 {
            #expect(window.advance(offset: UInt64(index) * 4096, length: 4096, budget: budget) == nil)
        }
    }
}

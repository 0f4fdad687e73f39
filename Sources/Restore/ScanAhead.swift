import SquashReader
import Synchronization

/// Fetches the data of upcoming files before the workers get to them, a window of bytes at a
/// time: consecutive files lie next to each other in the image, so a window becomes a few large
/// concurrent requests instead of one round trip per file. Of a large file only the head is
/// fetched ahead (half a window); its reader's own readahead takes over from there.
final class ScanAhead: Sendable {
    private let image: SquashImage
    private let copies: [RestorePlan.FileCopy]
    /// `before[i]`: bytes fetched ahead for the copies before copy `i`.
    private let before: [UInt64]
    /// Bytes fetched ahead of each copy: all of a small file, the head of a large one.
    private let ahead: [UInt64]
    private let whole: [Bool]
    private let window: UInt64
    /// Copies before this index have been handed to the prefetcher.
    private let scanned = Mutex(0)

    init(image: SquashImage, copies: [RestorePlan.FileCopy], options: RestoreOptions) {
        self.image = image
        self.copies = copies
        window = UInt64(max(0, options.scanAheadBytes))
        var before = [UInt64](repeating: 0, count: copies.count + 1)
        var ahead = [UInt64](repeating: 0, count: copies.count)
        var whole = [Bool](repeating: true, count: copies.count)
        for (index, copy) in copies.enumerated() {
            let size = image.attributes(of: copy.node)?.size ?? 0
            ahead[index] = min(size, window / 2)
            whole[index] = ahead[index] == size
            before[index + 1] = before[index] + ahead[index]
        }
        self.before = before
        self.ahead = ahead
        self.whole = whole
    }

    /// A worker is about to copy file `position`: keep the window ahead of it filled, refilling
    /// only when less than half of it is left so that batches stay large.
    func advance(to position: Int) {
        guard window > 0 else { return }
        let range: Range<Int> = scanned.withLock { through in
            let start = max(through, position)
            guard start < copies.count, before[start] < before[position] + window / 2 else { return 0..<0 }
            var end = start
            while end < copies.count && (end == start || before[end + 1] <= before[position] + window) { end += 1 }
            through = end
            return start..<end
        }
        guard !range.isEmpty else { return }
        image.prefetch(files: range.filter { whole[$0] }.map { copies[$0].node })
        for index in range where !whole[index] {
            image.prefetch(copies[index].node, offset: 0, length: Int(ahead[index]))
        }
    }
}

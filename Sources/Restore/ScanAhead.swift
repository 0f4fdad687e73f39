import SquashReader
import Synchronization

/// Fetches the data of upcoming small files before the workers get to them, a window of bytes
/// at a time: consecutive files lie next to each other in the image, so a window becomes a few
/// large requests instead of one round trip per file.
final class ScanAhead: Sendable {
    private let image: SquashImage
    private let copies: [RestorePlan.FileCopy]
    /// `window[i]`: bytes of small files before copy `i`; large files count 0 (they read ahead themselves).
    private let before: [UInt64]
    private let small: [Bool]
    private let window: UInt64
    /// Copies before this index have been handed to the prefetcher.
    private let scanned = Mutex(0)

    init(image: SquashImage, copies: [RestorePlan.FileCopy], options: RestoreOptions) {
        self.image = image
        self.copies = copies
        window = UInt64(max(0, options.scanAheadBytes))
        var before = [UInt64](repeating: 0, count: copies.count + 1)
        var small = [Bool](repeating: false, count: copies.count)
        for (index, copy) in copies.enumerated() {
            let size = image.attributes(of: copy.node)?.size ?? 0
            small[index] = size <= UInt64(options.chunkBytes)
            before[index + 1] = before[index] + (small[index] ? size : 0)
        }
        self.before = before
        self.small = small
    }

    /// A worker is about to copy file `position`: keep the window ahead of it filled, refilling
    /// only when less than half of it is left so that batches stay large.
    func advance(to position: Int) {
        guard window > 0 else { return }
        let batch: [NodeID] = scanned.withLock { through in
            let start = max(through, position)
            guard start < copies.count, before[start] < before[position] + window / 2 else { return [] }
            var end = start
            var ids = [NodeID]()
            while end < copies.count && (end == start || before[end + 1] <= before[position] + window) {
                if small[end] { ids.append(copies[end].node) }
                end += 1
            }
            through = end
            return ids
        }
        if !batch.isEmpty { image.prefetch(files: batch) }
    }
}

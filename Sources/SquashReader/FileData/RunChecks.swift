import Foundation
import ImageDigests

/// The digest checks of one fetched run, made on another core while the fetching thread
/// decompresses the same blocks: a verified read then costs about the longer of the two instead
/// of their sum. Checks go in block order, so the first block's verdict is ready first.
///
/// A block is decompressed before its verdict is known; it is served, cached or persisted only
/// once its verdict says it is intact. (Decompressors already take arbitrary bytes from the
/// store when reads are unverified.)
final class RunChecks: @unchecked Sendable {
    // `verdicts` and `checked` are guarded by `condition`. Hence @unchecked Sendable.
    private let condition = NSCondition()
    private var verdicts: [Bool]
    private var checked = 0

    /// Starts checking `blocks` (offset and stored bytes, in order) against `table`.
    init(blocks: [(offset: UInt64, bytes: ArraySlice<UInt8>)], table: BlockDigestTable) {
        verdicts = [Bool](repeating: false, count: blocks.count)
        DispatchQueue.global().async { [self] in
            for (index, block) in blocks.enumerated() {
                let intact = table.check(block.bytes, at: block.offset) == .verified
                condition.withLock {
                    verdicts[index] = intact
                    checked = index + 1
                    condition.broadcast()
                }
            }
        }
    }

    /// Whether block `index` matches its digest; waits for its check.
    func isIntact(_ index: Int) -> Bool {
        condition.withLock {
            while checked <= index { condition.wait() }
            return verdicts[index]
        }
    }
}

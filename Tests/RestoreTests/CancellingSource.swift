import Storage
import Synchronization

/// Wraps a `RangeSource` and sets `flag` once `budget` bytes have been served (and keeps serving),
/// as a signal arriving mid-restore would.
final class CancellingSource: RangeSource {
    private let base: any RangeSource
    private let flag: CancellationFlag
    private let remaining = Mutex(Int.max)

    init(_ base: any RangeSource, flag: CancellationFlag) {
        self.base = base
        self.flag = flag
    }

    var size: UInt64 { base.size }
    var displayName: String { base.displayName }

    /// Cancels after `budget` more bytes (set after the image's metadata was read at open).
    func cancel(after budget: Int) { remaining.withLock { $0 = budget } }

    func read(_ range: ByteRange) throws -> [UInt8] {
        let exhausted = remaining.withLock { left -> Bool in
            left -= min(left, range.length)
            return left == 0
        }
        if exhausted { flag.cancel("interrupted by the test") }
        return try base.read(range)
    }
}

import Storage
import Synchronization

/// Wraps a `RangeSource` and fails every read once `budget` bytes have been served, as a store
/// that dies mid-restore would.
final class FailingSource: RangeSource {
    private let base: any RangeSource
    private let remaining: Mutex<Int>

    init(_ base: any RangeSource, budget: Int) {
        self.base = base
        remaining = Mutex(budget)
    }

    var size: UInt64 { base.size }
    var displayName: String { base.displayName }

    /// Gives the source a fresh budget (after the image's metadata has been read at open).
    func refill(_ budget: Int) { remaining.withLock { $0 = budget } }

    func read(_ range: ByteRange) throws -> [UInt8] {
        let allowed = remaining.withLock { left -> Bool in
            guard left >= range.length else { return false }
            left -= range.length
            return true
        }
        guard allowed else { throw StorageError.io(object: displayName, reason: "injected failure") }
        return try base.read(range)
    }
}

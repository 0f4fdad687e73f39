import Storage
import Synchronization

/// Wraps a `RangeSource` and records every range read, so tests can count requests and bytes.
public final class CountingSource: RangeSource {
    private let base: any RangeSource
    private let log = Mutex<[ByteRange]>([])

    public init(_ base: any RangeSource) { self.base = base }

    public var size: UInt64 { base.size }
    public var displayName: String { base.displayName }

    public func read(_ range: ByteRange) throws -> [UInt8] {
        log.withLock { $0.append(range) }
        return try base.read(range)
    }

    /// Every range read so far, in order.
    public var ranges: [ByteRange] { log.withLock { $0 } }

    public func reset() { log.withLock { $0.removeAll() } }
}

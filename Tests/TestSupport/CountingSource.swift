import Foundation
import Storage
import Synchronization

/// Wraps a `RangeSource` and records every range read, so tests can count requests and bytes;
/// with a `latency`, each read first waits that long, as a request over a network would.
public final class CountingSource: RangeSource {
    private let base: any RangeSource
    private let latencySeconds: Double
    private let log = Mutex<[ByteRange]>([])
    private let concurrency = Mutex<(now: Int, most: Int)>((0, 0))

    public init(_ base: any RangeSource, latency: Duration = .zero) {
        self.base = base
        latencySeconds = latency / .seconds(1)
    }

    public var size: UInt64 { base.size }
    public var displayName: String { base.displayName }

    public func read(_ range: ByteRange) throws -> [UInt8] {
        log.withLock { $0.append(range) }
        concurrency.withLock {
            $0.now += 1
            $0.most = max($0.most, $0.now)
        }
        defer { concurrency.withLock { $0.now -= 1 } }
        if latencySeconds > 0 { Thread.sleep(forTimeInterval: latencySeconds) }
        return try base.read(range)
    }

    /// The most reads that were under way at the same time.
    public var mostConcurrentReads: Int { concurrency.withLock { $0.most } }

    /// Every range read so far, in order.
    public var ranges: [ByteRange] { log.withLock { $0 } }

    public func reset() { log.withLock { $0.removeAll() } }
}

import Synchronization

/// Durations in power-of-two buckets from 100 µs up (bucket i: below 2^i × 100 µs), so that
/// percentiles cost constant memory however many requests are recorded.
public final class LatencyHistogram: Sendable {
    private static let bucketCount = 24
    private let buckets = Mutex([Int](repeating: 0, count: LatencyHistogram.bucketCount))

    public init() {}

    public func record(seconds: Double) {
        var bucket = 0
        var limit = 0.000_1
        while seconds >= limit && bucket < Self.bucketCount - 1 {
            bucket += 1
            limit *= 2
        }
        buckets.withLock { $0[bucket] += 1 }
    }

    /// The duration under which `fraction` of the recorded ones fell (a bucket's upper bound), in
    /// seconds; nil when nothing was recorded.
    public func percentile(_ fraction: Double) -> Double? {
        let counts = buckets.withLock { $0 }
        let total = counts.reduce(0, +)
        guard total > 0 else { return nil }
        var seen = 0
        for (index, count) in counts.enumerated() {
            seen += count
            if Double(seen) >= fraction * Double(total) { return 0.000_1 * Double(1 << index) }
        }
        return 0.000_1 * Double(1 << (Self.bucketCount - 1))
    }
}

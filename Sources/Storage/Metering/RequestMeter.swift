import Synchronization

/// Counts the requests one reader sends to where its bytes live (HTTP requests, retries included,
/// or reads of a local file): how many, how many failed, the bytes they brought back, how many are
/// under way, and how long they took. Answers served from memory or a cache never pass through it.
public final class RequestMeter: Sendable {
    private let requests = Atomic<Int>(0)
    private let failures = Atomic<Int>(0)
    private let bytes = Atomic<Int>(0)
    private let inFlight = Atomic<Int>(0)
    private let latency = LatencyHistogram()

    public init() {}

    /// Runs one request, `body`, counting it, the bytes `received` says its answer holds, and its
    /// duration; a request that throws, or whose answer `failed` rejects, counts as failed.
    public func measure<T, E: Error>(
        _ body: () throws(E) -> T, received: (T) -> Int, failed: (T) -> Bool = { _ in false }
    ) throws(E) -> T {
        requests.add(1, ordering: .relaxed)
        inFlight.add(1, ordering: .relaxed)
        let started = ContinuousClock.now
        defer {
            inFlight.subtract(1, ordering: .relaxed)
            latency.record(seconds: (ContinuousClock.now - started) / .seconds(1))
        }
        do {
            let answer = try body()
            bytes.add(received(answer), ordering: .relaxed)
            if failed(answer) { failures.add(1, ordering: .relaxed) }
            return answer
        } catch {
            failures.add(1, ordering: .relaxed)
            throw error
        }
    }

    /// The counters now (each read on its own, so a snapshot taken mid-request may be off by one).
    public var snapshot: Snapshot {
        Snapshot(
            requests: requests.load(ordering: .relaxed), failedRequests: failures.load(ordering: .relaxed),
            bytesReceived: bytes.load(ordering: .relaxed), inFlight: inFlight.load(ordering: .relaxed),
            latencyP50: latency.percentile(0.5), latencyP90: latency.percentile(0.9),
            latencyP99: latency.percentile(0.99))
    }

    /// What a `RequestMeter` counted up to one moment.
    public struct Snapshot: Sendable, Equatable {
        public var requests: Int
        public var failedRequests: Int
        public var bytesReceived: Int
        public var inFlight: Int
        /// Latencies in seconds (upper bounds of histogram buckets); nil before the first request.
        public var latencyP50: Double?
        public var latencyP90: Double?
        public var latencyP99: Double?
    }
}

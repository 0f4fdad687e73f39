import Foundation
import Storage
import Synchronization

/// The request log and fault schedule of a test double: every call is logged in order, and the
/// faults scheduled for it (by log index or by predicate) are handed back for the double to apply.
///
/// In the spirit of mountpoint-s3's mock and failure clients: tests script the store instead of
/// standing up a server. Safe to use from many threads at once.
public final class RequestScript: Sendable {
    private struct Rule {
        var matches: @Sendable (StoreRequest) -> Bool
        var fault: RequestFault
        /// nil: every matching request.
        var remaining: Int?
    }

    private struct State {
        var log: [StoreRequest] = []
        var rules: [Rule] = []
        var inFlight = 0
        var mostInFlight = 0
        /// Bytes asked for by the ranged requests under way.
        var bytesInFlight = 0
        var mostBytesInFlight = 0
    }

    private let state = Mutex(State())
    /// Added to every request, as a network round trip would.
    public let latency: Duration

    public init(latency: Duration = .zero) {
        self.latency = latency
    }

    /// Applies `fault` to the request with log index `index` (from 0).
    public func schedule(_ fault: RequestFault, at index: Int) {
        state.withLock { state in
            state.rules.append(Rule(matches: { $0.index == index }, fault: fault, remaining: 1))
        }
    }

    /// Applies `fault` to the next `times` requests `predicate` accepts (every one when nil).
    public func schedule(
        _ fault: RequestFault, times: Int? = nil, where predicate: @escaping @Sendable (StoreRequest) -> Bool
    ) {
        state.withLock { state in
            state.rules.append(Rule(matches: predicate, fault: fault, remaining: times))
        }
    }

    /// Every request so far, in the order they arrived.
    public var requests: [StoreRequest] { state.withLock { $0.log } }

    /// The requests of one kind, in order.
    public func requests(_ operation: StoreRequest.Operation) -> [StoreRequest] {
        requests.filter { $0.operation == operation }
    }

    /// The most requests that were under way at the same time.
    public var mostConcurrentRequests: Int { state.withLock { $0.mostInFlight } }

    /// The most bytes that ranged requests under way at the same time asked for.
    public var mostConcurrentBytes: Int { state.withLock { $0.mostBytesInFlight } }

    /// Runs `request` under its schedule: logs it, waits, fails it or hands `body` the truncation to
    /// apply (`body` returns its result and the bytes the request carried), then loses the reply if
    /// it is to be reset.
    func perform<T>(
        _ request: StoreRequest, changeETag: () -> Void = {}, _ body: (_ keeping: Int?) throws -> (T, bytes: Int)
    ) throws -> T {
        let (index, faults) = begin(request)
        var carried = 0
        defer { end(index, bytes: carried) }
        var keeping: Int?
        var reset = false
        for fault in faults {
            switch fault {
            case .fail(let error): throw error
            case .reset: reset = true
            case .truncate(let bytes): keeping = bytes
            case .changeETag: changeETag()
            case .delay: break
            }
        }
        let (result, bytes) = try body(keeping)
        carried = bytes
        if reset { throw StorageError.io(object: request.key, reason: "connection reset by peer (injected)") }
        return result
    }

    /// Logs `request`, waits the latency and any scheduled delay, and returns the other faults that
    /// apply to it; the caller runs the request and then calls `end`.
    private func begin(_ request: StoreRequest) -> (index: Int, faults: [RequestFault]) {
        let (index, faults) = state.withLock { state -> (Int, [RequestFault]) in
            var request = request
            request.index = state.log.count
            state.log.append(request)
            state.inFlight += 1
            state.mostInFlight = max(state.mostInFlight, state.inFlight)
            state.bytesInFlight += request.range?.length ?? 0
            state.mostBytesInFlight = max(state.mostBytesInFlight, state.bytesInFlight)
            var faults: [RequestFault] = []
            for position in state.rules.indices where state.rules[position].remaining != 0 {
                guard state.rules[position].matches(request) else { continue }
                faults.append(state.rules[position].fault)
                state.rules[position].remaining = state.rules[position].remaining.map { $0 - 1 }
            }
            return (request.index, faults)
        }
        var wait = latency
        for case .delay(let extra) in faults { wait += extra }
        if wait > .zero { Thread.sleep(forTimeInterval: wait / .seconds(1)) }
        return (index, faults.filter { if case .delay = $0 { false } else { true } })
    }

    /// Records how many bytes request `index` carried, and that it is no longer under way.
    private func end(_ index: Int, bytes: Int) {
        state.withLock { state in
            state.log[index].bytes = bytes
            state.inFlight -= 1
            state.bytesInFlight -= state.log[index].range?.length ?? 0
        }
    }
}

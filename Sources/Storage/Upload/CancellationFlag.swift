import Synchronization

/// A flag another thread (a signal handler) sets to stop long store work between steps: a writer
/// stops between parts and its caller removes what was stored. The first reason given wins.
public final class CancellationFlag: Sendable {
    private let reason = Mutex<String?>(nil)

    public init() {}

    /// Requests cancellation; `why` ends up in the error ("interrupted by SIGTERM").
    public func cancel(_ why: String) {
        reason.withLock { current in if current == nil { current = why } }
    }

    public var isCancelled: Bool { reason.withLock { $0 != nil } }

    /// Why cancellation was requested, if it was.
    public var cancelReason: String? { reason.withLock { $0 } }

    /// Throws `StorageError.cancelled` once cancellation was requested.
    public func check() throws {
        if let reason = cancelReason { throw StorageError.cancelled(reason: reason) }
    }
}

import Synchronization

/// A flag a signal handler sets to stop a create: the build stops between files, uploads stop
/// between parts, and what was uploaded is removed.
public final class BackupCancellation: Sendable {
    private let reason = Mutex<String?>(nil)

    public init() {}

    /// Requests cancellation; `why` ends up in the error ("interrupted by SIGTERM").
    public func cancel(_ why: String) {
        reason.withLock { current in if current == nil { current = why } }
    }

    public var isCancelled: Bool { reason.withLock { $0 != nil } }

    /// Why cancellation was requested, if it was.
    public var cancelReason: String? { reason.withLock { $0 } }
}

import Foundation
import Storage

/// Runs the facade's synchronous work on a thread of its own and turns Swift task cancellation
/// into the cancellation flag that work polls.
///
/// A thread rather than the cooperative pool: a create or restore blocks for minutes on files and
/// the network, and would starve the pool's few threads (one per core) meanwhile.
enum BlockingCall {
    /// Why work stops when its task is cancelled; it ends up in the OPERATION_INTERRUPTED message.
    static let cancelReason = "the task was cancelled"

    /// Says why the current task was cancelled, when its canceller knows better than
    /// `cancelReason` (see ``BackupClient/withCancellationReason(_:operation:)``).
    @TaskLocal static var reasonSource: (@Sendable () -> String?)?

    /// Why the current task was cancelled, as errors say it.
    static func currentReason() -> String { reasonSource?() ?? cancelReason }

    /// Runs `body`; a cancellation of the calling task sets `cancellation`, which `body` is
    /// expected to honour by throwing OPERATION_INTERRUPTED. Errors other than `BackupError` are
    /// mapped onto `fallback`. A task cancelled before the work starts fails without starting it.
    static func run<Value: Sendable>(
        cancellation: CancellationFlag? = nil, fallback: BackupError.Code,
        _ body: @escaping @Sendable () throws -> Value
    ) async throws -> Value {
        let reasonSource = Self.reasonSource
        if Task.isCancelled {
            throw BackupError(.interrupted, "\(currentReason()) before the work started; nothing was done")
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
                let thread = Thread {
                    continuation.resume(with: Result { try body() }.mapError { BackupError.wrapping($0, as: fallback) })
                }
                // The main thread's size: the image writer and the restorer were sized for it.
                thread.stackSize = 8 << 20
                thread.start()
            }
        } onCancel: {
            cancellation?.cancel(reasonSource?() ?? cancelReason)
        }
    }
}

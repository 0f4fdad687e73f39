/// A call of ``BackupClient`` under way: its progress as an `AsyncStream`, and its outcome.
///
/// The stream keeps the newest reports when its reader falls behind (the work never waits for
/// it) and finishes when the call ends, however it ends.
public struct BackupOperation<Progress: Sendable, Value: Sendable>: Sendable {
    /// The call's running totals, a few a second.
    public let progress: AsyncStream<Progress>
    private let task: Task<Value, any Error>

    /// Starts `call`, handing it the function that feeds `progress`.
    init(_ call: @escaping @Sendable (_ report: @escaping @Sendable (Progress) -> Void) async throws -> Value) {
        let (stream, continuation) = AsyncStream.makeStream(of: Progress.self, bufferingPolicy: .bufferingNewest(16))
        progress = stream
        task = Task {
            defer { continuation.finish() }
            return try await call { continuation.yield($0) }
        }
    }

    /// The call's result, or its error; cancelling the task that waits here cancels the call.
    public var value: Value {
        get async throws {
            let task = self.task
            return try await withTaskCancellationHandler {
                try await task.value
            } onCancel: {
                task.cancel()
            }
        }
    }

    /// Cancels the call: it ends with OPERATION_INTERRUPTED as a cancelled task's call does.
    public func cancel() { task.cancel() }
}

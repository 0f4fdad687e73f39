extension BackupClient {
    /// Runs `operation` so that when its task is cancelled, the OPERATION_INTERRUPTED errors of the
    /// client's calls give `reason()` as the cause ("interrupted by SIGINT") instead of "the task
    /// was cancelled". `reason` is asked when the cancellation arrives; nil keeps the default.
    public static func withCancellationReason<Value: Sendable>(
        _ reason: @escaping @Sendable () -> String?, operation: () async throws -> Value
    ) async rethrows -> Value {
        try await BlockingCall.$reasonSource.withValue(reason) { try await operation() }
    }
}

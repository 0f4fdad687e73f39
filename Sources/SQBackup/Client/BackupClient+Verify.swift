extension BackupClient {
    /// Reads backup `id` back and checks every block against the digests recorded at create
    /// (the spec's "test restores periodically", writing nothing). Damage is in the report
    /// (`ok`, `damaged`, `damageError`), not thrown; `progress` is called from the reading thread.
    /// `parallelReads` ranged reads are in flight at once. Cancelling the task stops the reads
    /// between ranges: OPERATION_INTERRUPTED.
    public func verify(
        _ id: String, parallelReads: Int = 8, progress: (@Sendable (VerifyProgress) -> Void)? = nil
    ) async throws -> VerifyReport {
        let client = self
        let cancellation = BackupCancellation()
        return try await BlockingCall.run(cancellation: cancellation, fallback: .restoreFailed) {
            var verifier = BackupVerifier(catalog: try client.catalog())
            verifier.parallelReads = parallelReads
            verifier.cancellation = cancellation
            return try verifier.verify(id: id, progress: progress)
        }
    }
}

import Storage

/// What a scripted request does instead of (or besides) succeeding.
public enum RequestFault: Sendable {
    /// Fails with `error` before anything is done.
    case fail(StorageError)
    /// Carries the request out, then loses the reply: the caller gets a connection-reset `io` error
    /// although an upload was stored.
    case reset
    /// Keeps only the first `bytes` bytes of the body: a short read returned, or a short upload stored.
    case truncate(keeping: Int)
    /// Replaces the object's ETag before the request runs (same bytes, new version), so readers
    /// pinned to the old one get `changed`.
    case changeETag
    /// Waits this long before the request runs.
    case delay(Duration)
}

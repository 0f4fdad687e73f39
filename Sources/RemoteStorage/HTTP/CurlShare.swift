import CCurl
import CCurlShims

/// A share handle (DNS cache and TLS sessions) whose locks make it safe across threads.
///
/// Connections are not shared: libcurl documents sharing its connection cache between
/// concurrently running threads as unsafe (KNOWN_BUGS). Each pooled easy handle keeps its
/// own live connections instead, so the pool of handles is the connection pool.
final class CurlShare: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer?
    private let locks: UnsafeMutableRawPointer?

    init() {
        var locks: UnsafeMutableRawPointer?
        handle = sqb_curl_share_new_locked(0, &locks)
        self.locks = locks
    }

    deinit { sqb_curl_share_free_locked(handle, locks) }
}

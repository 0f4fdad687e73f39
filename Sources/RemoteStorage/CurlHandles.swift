import CCurl
import CCurlShims

/// `curl_global_init`, run once before the first handle exists.
enum CurlGlobal {
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
    }()

    static func initializeOnce() { _ = initialized }
}

/// An easy handle; used by one thread at a time (the pool hands it out exclusively).
final class CurlEasy: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer?

    init() { handle = curl_easy_init() }

    deinit { if let handle { curl_easy_cleanup(handle) } }
}

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

import CCurl
import CCurlShims

/// An easy handle; used by one thread at a time (the pool hands it out exclusively).
final class CurlEasy: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer?

    init() { handle = curl_easy_init() }

    deinit { if let handle { curl_easy_cleanup(handle) } }
}

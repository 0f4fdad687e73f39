import CCurl
import CCurlShims
import Foundation

/// An easy handle; used by one thread at a time (the pool hands it out exclusively).
final class CurlEasy: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer?
    /// curl's `CURLOPT_ERRORBUFFER`: the detail of the last failure (which certificate check
    /// failed, …), richer than `curl_easy_strerror`'s fixed text.
    let errorBuffer: UnsafeMutablePointer<CChar>

    init() {
        handle = curl_easy_init()
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    /// The error buffer's text, empty when curl wrote none.
    var errorDetail: String {
        errorBuffer[Int(CURL_ERROR_SIZE) - 1] = 0
        return String(cString: errorBuffer).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit {
        if let handle { curl_easy_cleanup(handle) }
        errorBuffer.deallocate()
    }
}

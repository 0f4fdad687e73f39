import CCurl
import CCurlShims

/// `curl_global_init`, run once before the first handle exists.
enum CurlGlobal {
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
    }()

    static func initializeOnce() { _ = initialized }
}

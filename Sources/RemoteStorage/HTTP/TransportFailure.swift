import CCurl
import Foundation

/// A failed curl transfer turned into an `HTTPTransportError` whose message says what failed and
/// where, in libcurl's words, and never carries the URL's query (a presigned signature).
struct TransportFailure {
    var code: CURLcode
    /// curl's error buffer for this transfer.
    var detail: String
    var url: String
    var caBundle: String?

    func error(abortedBy: CurlTransfer.AbortReason?, partial: HTTPResponse?) -> HTTPTransportError {
        if let abortedBy {
            let message =
                switch abortedBy {
                case .firstByte: "no response within the first-byte timeout"
                case .stalled: "transfer stalled"
                }
            return HTTPTransportError(kind: .timeout, message: message, partial: partial)
        }
        let peer = Self.peer(of: url)
        switch code {
        case CURLE_PEER_FAILED_VERIFICATION:
            // The peer is named by the caller (StorageError.untrustedCertificate); the message is the why.
            return HTTPTransportError(
                kind: .untrustedCertificate, message: explanation, partial: partial, peer: peer ?? "the server")
        case CURLE_SSL_CACERT_BADFILE:
            let bundle = caBundle.map { "CA bundle \($0)" } ?? "the system's CA bundle"
            return HTTPTransportError(
                kind: .tls, message: "\(bundle) could not be loaded (\(explanation))", partial: partial, peer: peer)
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM:
            let server = peer.map { " with \($0)" } ?? ""
            return HTTPTransportError(
                kind: .tls, message: "TLS handshake\(server) failed (\(explanation))", partial: partial, peer: peer)
        default:
            return HTTPTransportError(kind: kind, message: explanation, partial: partial, peer: peer)
        }
    }

    private var kind: HTTPTransportError.Kind {
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .connect
        case CURLE_OPERATION_TIMEDOUT: .timeout
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_HTTP2, CURLE_HTTP2_STREAM: .reset
        case CURLE_PARTIAL_FILE: .truncated
        default: .other
        }
    }

    /// curl's detail when it gave one, else its fixed text for the code; with the code number.
    private var explanation: String {
        let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        return "\(Self.withoutQuery(text, of: url)) (curl \(code.rawValue))"
    }

    /// `host:port` of `url` (the scheme's port when none is written).
    static func peer(of url: String) -> String? {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            return nil
        }
        let port = components.port ?? (components.scheme?.lowercased() == "http" ? 80 : 443)
        let shown = host.contains(":") ? "[\(host)]" : host
        return "\(shown):\(port)"
    }

    /// `text` with the URL's query (and anything after a `?` of the URL) cut out, in case curl quotes it.
    static func withoutQuery(_ text: String, of url: String) -> String {
        guard let mark = url.firstIndex(of: "?") else { return text }
        let query = String(url[url.index(after: mark)...])
        guard !query.isEmpty else { return text }
        return text.replacingOccurrences(of: query, with: "<query redacted>")
    }
}

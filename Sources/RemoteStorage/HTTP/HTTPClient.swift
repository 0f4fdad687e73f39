import CCurl
import CCurlShims
import Foundation
import Storage
import Synchronization

/// A blocking HTTP client on libcurl, safe to use from many threads.
///
/// Easy handles are pooled (each keeps its live connections between requests) and share
/// one DNS cache and TLS session cache, so parallel range reads reuse warm connections.
/// One call is one attempt: retries belong to the caller, which knows whether a request
/// is idempotent.
public final class HTTPClient: Sendable {
    /// The process-wide client with default options.
    public static let shared = HTTPClient()

    /// Process-wide clients for other CA bundles, so that every store and URL trusting the same
    /// CAs shares one pool of warm connections and TLS sessions.
    private static let trustingBundle = Mutex<[String: HTTPClient]>([:])

    /// The process-wide client that verifies servers against `caBundle` (nil: the system's CAs).
    public static func trusting(caBundle: String?) -> HTTPClient {
        guard let caBundle else { return shared }
        return trustingBundle.withLock { clients in
            if let client = clients[caBundle] { return client }
            var options = HTTPClientOptions()
            options.caBundle = caBundle
            let client = HTTPClient(options: options)
            clients[caBundle] = client
            return client
        }
    }

    public let options: HTTPClientOptions
    /// Counts every request this client sends (each attempt of a retried one); nil counts nothing.
    public let meter: RequestMeter?
    private let share: CurlShare
    private let idleHandles = Mutex<[CurlEasy]>([])

    public init(options: HTTPClientOptions = HTTPClientOptions(), meter: RequestMeter? = nil) {
        CurlGlobal.initializeOnce()
        self.options = options
        self.meter = meter
        share = CurlShare()
    }

    /// A client with this one's options whose requests `meter` counts (with connections of its own).
    public func metered(by meter: RequestMeter) -> HTTPClient {
        HTTPClient(options: options, meter: meter)
    }

    /// Sends `request` once and returns the full response whatever its status; throws
    /// `HTTPTransportError` when no complete response arrived.
    public func perform(_ request: HTTPRequest) throws(HTTPTransportError) -> HTTPResponse {
        guard let meter else { return try send(request) }
        return try meter.measure(
            { () throws(HTTPTransportError) -> HTTPResponse in try send(request) }, received: \.body.count,
            failed: { $0.status >= 400 })
    }

    private func send(_ request: HTTPRequest) throws(HTTPTransportError) -> HTTPResponse {
        let easy = idleHandles.withLock { $0.popLast() } ?? CurlEasy()
        guard let handle = easy.handle else {
            throw HTTPTransportError(kind: .other, message: "cannot create a curl handle", partial: nil)
        }
        let transfer = CurlTransfer(options: options, isHead: request.method == "HEAD")
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        let code: CURLcode = request.body.withUnsafeBytes { body in
            curl_easy_reset(handle)
            configure(handle, request: request, body: body, transfer: transfer, headerList: &headerList)
            easy.errorBuffer[0] = 0
            sqb_curl_easy_setopt_ptr(handle, CURLOPT_ERRORBUFFER, easy.errorBuffer)
            return curl_easy_perform(handle)
        }
        var status = 0
        var statusLong = 0
        if sqb_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &statusLong) == CURLE_OK {
            status = statusLong
        }
        let abortedBy = transfer.abortReason
        // Keep the handle only after clean transfers: a failed one may hold a broken connection.
        if code == CURLE_OK {
            idleHandles.withLock { if $0.count < options.maxConnections { $0.append(easy) } }
        }
        let response = HTTPResponse(status: status, headers: transfer.headers, body: transfer.body)
        guard code == CURLE_OK else {
            let failure = TransportFailure(
                code: code, detail: easy.errorDetail, url: request.url, caBundle: options.caBundle)
            throw failure.error(abortedBy: abortedBy, partial: status > 0 ? response : nil)
        }
        return response
    }

    private func configure(
        _ handle: UnsafeMutableRawPointer, request: HTTPRequest, body: UnsafeRawBufferPointer,
        transfer: CurlTransfer, headerList: inout UnsafeMutablePointer<curl_slist>?
    ) {
        sqb_curl_easy_setopt_ptr(handle, CURLOPT_SHARE, UnsafeRawPointer(share.handle))
        sqb_curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        sqb_curl_easy_setopt_ptr(handle, CURLOPT_URL, request.url)
        // Readahead keeps a dozen or more ranges in flight; a smaller connection cache would close
        // the surplus after each request and pay a new handshake (and slow start) for the next.
        sqb_curl_easy_setopt_long(handle, CURLOPT_MAXCONNECTS, 32)
        // Large reads from the socket: fewer callbacks and copies per 8 MiB range.
        sqb_curl_easy_setopt_long(handle, CURLOPT_BUFFERSIZE, 512 << 10)
        sqb_curl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(options.connectTimeout * 1000))
        // A backstop for the stall check in the progress callback.
        sqb_curl_easy_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
        sqb_curl_easy_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, max(1, Int(options.stallTimeout.rounded(.up)) + 1))
        sqb_curl_easy_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        // Always verified (curl's default, stated so that no reset can lose it); only which CAs
        // are trusted is configurable.
        sqb_curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
        sqb_curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
        if let caBundle = options.caBundle { sqb_curl_easy_setopt_ptr(handle, CURLOPT_CAINFO, caBundle) }
        // Stated either way: libcurl's own default over TLS is HTTP/2.
        let version = options.preferHTTP2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1
        sqb_curl_easy_setopt_long(handle, CURLOPT_HTTP_VERSION, Int(version))
        switch request.method {
        case "GET":
            sqb_curl_easy_setopt_long(handle, CURLOPT_HTTPGET, 1)
        case "HEAD":
            sqb_curl_easy_setopt_long(handle, CURLOPT_NOBODY, 1)
        default:
            sqb_curl_easy_setopt_ptr(handle, CURLOPT_CUSTOMREQUEST, request.method)
            if !body.isEmpty || request.method == "PUT" || request.method == "POST" {
                sqb_curl_easy_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                sqb_curl_easy_setopt_ptr(
                    handle, CURLOPT_POSTFIELDS, body.baseAddress ?? UnsafeRawPointer(bitPattern: 1))
            }
        }
        var sawContentType = false
        for header in request.headers {
            if header.name.lowercased() == "content-type" { sawContentType = true }
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        // curl would add "application/x-www-form-urlencoded" to bodies and "Expect:
        // 100-continue" to large ones; S3 wants neither.
        if !sawContentType { headerList = curl_slist_append(headerList, "Content-Type:") }
        headerList = curl_slist_append(headerList, "Expect:")
        headerList = curl_slist_append(headerList, "Accept:")
        sqb_curl_easy_setopt_ptr(handle, CURLOPT_HTTPHEADER, headerList)

        let context = Unmanaged.passUnretained(transfer).toOpaque()
        sqb_curl_easy_setopt_write_fn(handle) { data, size, count, context in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
            let total = size * count
            if let data { transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: total)) }
            return total
        }
        sqb_curl_easy_setopt_ptr(handle, CURLOPT_WRITEDATA, context)
        sqb_curl_easy_setopt_header_fn(handle) { data, size, count, context in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
            let total = size * count
            if let data { transfer.receiveHeader(UnsafeRawBufferPointer(start: data, count: total)) }
            return total
        }
        sqb_curl_easy_setopt_ptr(handle, CURLOPT_HEADERDATA, context)
        sqb_curl_easy_setopt_xferinfo_fn(handle) { context, _, downloaded, _, uploaded in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
            return transfer.progress(downloaded: downloaded, uploaded: uploaded) ? 0 : 1
        }
        sqb_curl_easy_setopt_ptr(handle, CURLOPT_XFERINFODATA, context)
        sqb_curl_easy_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
    }
}

import CCurl
import Foundation

/// Per-transfer state reached from curl's callbacks on the calling thread.
final class CurlTransfer {
    enum AbortReason { case firstByte, stalled }

    var headers: [String: String] = [:]
    var body: [UInt8] = []
    var abortReason: AbortReason?
    private let firstByteTimeout: UInt64
    private let stallTimeout: UInt64
    private let started = DispatchTime.now().uptimeNanoseconds
    private var lastProgress = DispatchTime.now().uptimeNanoseconds
    private var lastCounts: (Int64, Int64) = (0, 0)
    private var sawResponse = false

    init(options: HTTPClientOptions, isHead: Bool) {
        firstByteTimeout = UInt64(max(options.firstByteTimeout, 0.001) * 1e9)
        stallTimeout = UInt64(max(options.stallTimeout, 0.001) * 1e9)
    }

    func receiveHeader(_ bytes: UnsafeRawBufferPointer) {
        sawResponse = true
        lastProgress = DispatchTime.now().uptimeNanoseconds
        let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            headers = [:]  // a new response (after 100 Continue or a redirect)
            body = []
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        headers[name] = value
    }

    func receiveBody(_ bytes: UnsafeRawBufferPointer) {
        lastProgress = DispatchTime.now().uptimeNanoseconds
        // One allocation for the whole body instead of a doubling series of copies (8 MiB ranges).
        if body.isEmpty, let length = headers["content-length"].flatMap(Int.init), length > 0 {
            body.reserveCapacity(min(length, 64 << 20))  // a server may answer a range with the whole object
        }
        body.append(contentsOf: bytes)
    }

    /// False aborts the transfer.
    func progress(downloaded: curl_off_t, uploaded: curl_off_t) -> Bool {
        let now = DispatchTime.now().uptimeNanoseconds
        if (Int64(downloaded), Int64(uploaded)) != lastCounts {
            lastCounts = (Int64(downloaded), Int64(uploaded))
            lastProgress = now
        }
        if !sawResponse && now - lastProgress > firstByteTimeout && now - started > firstByteTimeout {
            abortReason = .firstByte
            return false
        }
        if sawResponse && now - lastProgress > stallTimeout {
            abortReason = .stalled
            return false
        }
        return true
    }
}

import Logging
import Storage

/// One GET of a whole object or a byte range, retried; a body cut off mid-way continues
/// from the first missing byte, pinned to the first answer's ETag so the pieces belong to
/// one version.
struct RangedDownload {
    let object: String
    let range: ByteRange?
    let ifMatch: String?
    let client: HTTPClient
    let retryPolicy: RetryPolicy
    let logger: Logger
    /// Builds (and signs) the request for the given extra headers (Range, If-Match).
    let makeRequest: ([(name: String, value: String)]) -> HTTPRequest
    /// Maps a final non-2xx answer to an error.
    let failure: (HTTPResponse, ByteRange?) -> StorageError
    /// The object's size now, for the message of a range that lies past the end.
    let currentSize: () -> UInt64?

    func run() throws -> [UInt8] {
        var received: [UInt8] = []
        var pinned = ifMatch
        var targetLength = range?.length
        var attempt = 0
        while true {
            attempt += 1
            let offset = (range?.offset ?? 0) + UInt64(received.count)
            var headers: [(name: String, value: String)] = []
            if let range {
                headers.append(("Range", "bytes=\(offset)-\(range.end - 1)"))
            } else if !received.isEmpty {
                headers.append(("Range", "bytes=\(offset)-"))
            }
            if let pinned { headers.append(("If-Match", "\"\(pinned)\"")) }
            let asked = range.map { ByteRange(offset: offset, length: $0.length - (received.count)) }
            do {
                let response = try client.perform(makeRequest(headers))
                if S3Store.isRetryable(response) && attempt < retryPolicy.maxAttempts {
                    retryPolicy.sleep(afterAttempt: attempt, retryAfter: S3Store.retryAfter(response))
                    continue
                }
                guard (200..<300).contains(response.status) else {
                    if response.status == 416, let range {
                        let reported = XMLTree.parse(response.body)?.value("ActualObjectSize").flatMap(UInt64.init)
                        let size = reported ?? response.unsatisfiedRangeTotal ?? currentSize() ?? offset
                        throw StorageError.outOfRange(object: object, range: range, size: size)
                    }
                    throw failure(response, asked)
                }
                try accept(response, offset: offset, pinned: &pinned, targetLength: &targetLength, into: &received)
                if let range, received.count < range.length {
                    let size = response.contentRange?.total ?? offset + UInt64(received.count)
                    throw StorageError.outOfRange(object: object, range: range, size: size)
                }
                return received
            } catch let error as HTTPTransportError {
                if let partial = error.partial, (200..<300).contains(partial.status) {
                    try? accept(partial, offset: offset, pinned: &pinned, targetLength: &targetLength, into: &received)
                    if let targetLength, received.count >= targetLength { return received }
                }
                guard attempt < retryPolicy.maxAttempts, error.kind != .tls else {
                    throw StorageError.io(object: object, reason: "\(error.message) (GET, after \(attempt) attempts)")
                }
                logger.debug("retrying GET \(object) from byte \(received.count): \(error.message)")
                retryPolicy.sleep(afterAttempt: attempt)
            }
        }
    }

    /// Appends the useful bytes of a 200/206 answer that starts at `offset`.
    private func accept(
        _ response: HTTPResponse, offset: UInt64, pinned: inout String?, targetLength: inout Int?,
        into received: inout [UInt8]
    ) throws {
        if let etag = response.etag {
            if let pinned, pinned != etag {
                throw StorageError.changed(object: object, reason: "ETag \(etag), expected \(pinned)")
            }
            pinned = etag
        }
        var body = response.body[...]
        if response.status == 206 {
            guard let contentRange = response.contentRange, contentRange.first == offset else {
                throw StorageError.io(object: object, reason: "206 answer for another range than asked")
            }
            if targetLength == nil, let total = contentRange.total {
                targetLength = Int(total - (range?.offset ?? 0))
            }
        } else {
            // 200: the server sent the whole object (it ignored Range or none was sent).
            if targetLength == nil, range == nil, let length = response.headers["content-length"].flatMap(Int.init) {
                targetLength = length
            }
            let skip = Int(min(offset, UInt64(body.count)))
            body = body.dropFirst(skip)
        }
        if let targetLength { body = body.prefix(max(0, targetLength - received.count)) }
        if received.isEmpty && body.count == response.body.count {
            received = response.body  // the usual case: the answer is the range, taken without a copy
            return
        }
        if received.isEmpty, let range { received.reserveCapacity(range.length) }
        received.append(contentsOf: body)
    }
}

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

    /// What one attempt came to.
    private enum Attempt: CustomStringConvertible {
        /// A whole answer to a request that started at `offset`.
        case answered(HTTPResponse, offset: UInt64)
        /// A cut-off answer that still brought every byte asked for.
        case complete

        var decision: RetryDecision {
            guard case .answered(let response, _) = self else { return .final }
            return FailureClassifier.decision(for: response)
        }

        var description: String {
            guard case .answered(let response, _) = self else { return "complete" }
            return "HTTP \(response.status)"
        }
    }

    /// The bytes so far and the version they belong to.
    private struct Progress {
        var received: [UInt8] = []
        var pinned: String?
        var targetLength: Int?
    }

    func run() throws -> [UInt8] {
        var progress = Progress(pinned: ifMatch, targetLength: range?.length)
        let outcome = try retryPolicy.run(object: object, operation: "GET", logger: logger, classify: \.decision) {
            _ in try attempt(&progress)
        }
        guard case .answered(let response, let offset) = outcome else { return progress.received }
        guard (200..<300).contains(response.status) else {
            if response.status == 416, let range {
                let reported = XMLTree.parse(response.body)?.value("ActualObjectSize").flatMap(UInt64.init)
                let size = reported ?? response.unsatisfiedRangeTotal ?? currentSize() ?? offset
                throw StorageError.outOfRange(object: object, range: range, size: size)
            }
            let asked = range.map { ByteRange(offset: offset, length: $0.length - progress.received.count) }
            throw failure(response, asked)
        }
        try accept(response, offset: offset, into: &progress)
        if let range, progress.received.count < range.length {
            let size = response.contentRange?.total ?? offset + UInt64(progress.received.count)
            throw StorageError.outOfRange(object: object, range: range, size: size)
        }
        return progress.received
    }

    /// Asks for what is still missing; keeps what a cut-off answer brought before rethrowing.
    private func attempt(_ progress: inout Progress) throws -> Attempt {
        let offset = (range?.offset ?? 0) + UInt64(progress.received.count)
        var headers: [(name: String, value: String)] = []
        if let range {
            headers.append(("Range", "bytes=\(offset)-\(range.end - 1)"))
        } else if !progress.received.isEmpty {
            headers.append(("Range", "bytes=\(offset)-"))
        }
        if let pinned = progress.pinned { headers.append(("If-Match", "\"\(pinned)\"")) }
        do {
            return .answered(try client.perform(makeRequest(headers)), offset: offset)
        } catch {
            if let partial = error.partial, (200..<300).contains(partial.status) {
                try? accept(partial, offset: offset, into: &progress)
                if let target = progress.targetLength, progress.received.count >= target { return .complete }
            }
            throw error
        }
    }

    /// Appends the useful bytes of a 200/206 answer that starts at `offset`.
    private func accept(_ response: HTTPResponse, offset: UInt64, into progress: inout Progress) throws {
        if let etag = response.etag {
            if let pinned = progress.pinned, pinned != etag {
                throw StorageError.changed(object: object, reason: "ETag \(etag), expected \(pinned)")
            }
            progress.pinned = etag
        }
        var body = response.body[...]
        if response.status == 206 {
            guard let contentRange = response.contentRange, contentRange.first == offset else {
                throw StorageError.io(object: object, reason: "206 answer for another range than asked")
            }
            if progress.targetLength == nil, let total = contentRange.total {
                progress.targetLength = Int(total - (range?.offset ?? 0))
            }
        } else {
            // 200: the server sent the whole object (it ignored Range or none was sent).
            if progress.targetLength == nil, range == nil,
                let length = response.headers["content-length"].flatMap(Int.init)
            {
                progress.targetLength = length
            }
            let skip = Int(min(offset, UInt64(body.count)))
            body = body.dropFirst(skip)
        }
        if let target = progress.targetLength { body = body.prefix(max(0, target - progress.received.count)) }
        if progress.received.isEmpty && body.count == response.body.count {
            progress.received = response.body  // the usual case: the answer is the range, taken without a copy
            return
        }
        if progress.received.isEmpty, let range { progress.received.reserveCapacity(range.length) }
        progress.received.append(contentsOf: body)
    }
}

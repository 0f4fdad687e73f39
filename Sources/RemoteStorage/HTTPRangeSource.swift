import Foundation
import Logging
import Storage

/// A read-only `RangeSource` over a plain or presigned http(s) URL, so that a machine without
/// store credentials can mount an image.
///
/// Opening reads the head of the object (`Range: bytes=0-…`; a presigned GET URL does not allow
/// HEAD) to learn the size and ETag, and at the same time its tail (`bytes=-…`, no size needed),
/// and keeps both: the image reader's first reads (the superblock, then the metadata tables at
/// the end of the image) cost no further round trip when the tables fit in the tail. Every later read sends `If-Match` and checks the answer's ETag, so a
/// replaced object fails with `changed` instead of mixing versions. The URL's query (a
/// presigned signature) never appears in `displayName`, errors or logs.
public final class HTTPRangeSource: RangeSource {
    public let size: UInt64
    public let displayName: String
    /// The version reads are pinned to; nil when the server sends no ETag.
    public let etag: String?
    public var version: String? { etag }
    private let url: String
    private let client: HTTPClient
    private let retryPolicy: RetryPolicy
    private let parallelRequests: Int
    private let logger = Logger(label: "sqbackup.http-source")
    /// The head and tail read when opening.
    private let kept: KeptBytes

    /// `headLength`: how much of the head the opening request reads and keeps (at least 1 byte);
    /// `tailLength`: how much of the end a second, concurrent opening request reads (0: none).
    public init(
        url: String, client: HTTPClient = .shared, retryPolicy: RetryPolicy = .standard, parallelRequests: Int = 16,
        headLength: Int = 128 << 10, tailLength: Int = 0
    ) throws {
        let name = Self.redacted(url)
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "https" || scheme == "http", components.host?.isEmpty == false
        else {
            throw StorageError.invalidConfiguration(reason: "\(name) is not an http(s) URL")
        }
        self.url = url
        self.client = client
        self.retryPolicy = retryPolicy
        self.parallelRequests = max(1, parallelRequests)
        displayName = name

        let ranges = ["bytes=0-\(max(1, headLength) - 1)"] + (tailLength > 0 ? ["bytes=-\(tailLength)"] : [])
        // The tail is only a shortcut: its failure is not the open's.
        let answers = try ParallelWork.map(count: ranges.count, width: ranges.count) { index in
            Result {
                try Self.probe(url: url, name: name, range: ranges[index], client: client, retryPolicy: retryPolicy)
            }
        }
        let probe = try answers[0].get()
        let size: UInt64
        switch probe.status {
        case 206:
            guard let total = probe.contentRange?.total else {
                throw StorageError.io(object: name, reason: "206 answer without the object size in Content-Range")
            }
            size = total
        case 416:
            size = probe.unsatisfiedRangeTotal ?? 0
        case 200:
            let length = probe.headers["content-length"].flatMap(UInt64.init) ?? UInt64(probe.body.count)
            guard length == 0 else {
                throw StorageError.io(object: name, reason: "the server does not support range requests")
            }
            size = 0
        default:
            throw Self.failure(probe, object: name)
        }
        self.size = size
        etag = probe.etag
        kept = KeptBytes(
            size: size, head: probe.head(length: max(1, headLength), size: size) ?? [],
            tail: (try? answers.dropFirst().first?.get())?.tail(size: size, etag: probe.etag) ?? [])
    }

    public func read(_ range: ByteRange) throws -> [UInt8] {
        try checkBounds(range)
        if range.length == 0 { return [] }
        return try kept.read(range, fetch: download)
    }

    private func download(_ range: ByteRange) throws -> [UInt8] {
        try RangedDownload(
            object: displayName, range: range, ifMatch: etag, client: client, retryPolicy: retryPolicy, logger: logger,
            makeRequest: { [url] headers in HTTPRequest(method: "GET", url: url, headers: headers) },
            failure: { [displayName] response, _ in Self.failure(response, object: displayName) },
            currentSize: { [size] in size }
        ).run()
    }

    public func read(ranges: [ByteRange]) throws -> [[UInt8]] {
        try ParallelWork.map(count: ranges.count, width: parallelRequests) { [self] index in try read(ranges[index]) }
    }

    private static func probe(url: String, name: String, range: String, client: HTTPClient, retryPolicy: RetryPolicy)
        throws -> HTTPResponse
    {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let response = try client.perform(
                    HTTPRequest(method: "GET", url: url, headers: [("Range", range)]))
                if S3Store.isRetryable(response) && attempt < retryPolicy.maxAttempts {
                    retryPolicy.sleep(afterAttempt: attempt, retryAfter: S3Store.retryAfter(response))
                    continue
                }
                return response
            } catch {
                guard attempt < retryPolicy.maxAttempts, error.kind != .tls else {
                    throw StorageError.io(object: name, reason: "\(error.message) (after \(attempt) attempts)")
                }
                retryPolicy.sleep(afterAttempt: attempt)
            }
        }
    }

    private static func failure(_ response: HTTPResponse, object: String) -> StorageError {
        let tree = XMLTree.parse(response.body)
        let code = tree?.value("Code") ?? "HTTP \(response.status)"
        switch response.status {
        case 404: return .notFound(object: object)
        case 401, 403:
            return .unauthorized(object: object, reason: "\(code) (an expired or altered presigned URL is refused)")
        case 412: return .changed(object: object, reason: "\(code): the ETag no longer matches")
        default: return .io(object: object, reason: "HTTP \(response.status) \(code)")
        }
    }

    /// `scheme://host[:port]/path` without user info, query or fragment.
    public static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url) else {
            return String(url.prefix { $0 != "?" && $0 != "#" })
        }
        components.query = nil
        components.fragment = nil
        components.user = nil
        components.password = nil
        return components.string ?? String(url.prefix { $0 != "?" && $0 != "#" })
    }
}

import Foundation
import Logging
import Storage

/// A read-only `RangeSource` over a plain or presigned http(s) URL, so that a machine without
/// store credentials can mount an image.
///
/// Opening reads the head of the object (`Range: bytes=0-…`; a presigned GET URL does not allow
/// HEAD) to learn the size and ETag, and at the same time its tail, and keeps both (see
/// `HeadTailOpener`). Every later read sends `If-Match` and checks the answer's ETag, so a
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
    private let errors = S3ErrorMapping(access: .presignedURL)
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

        let answers = try HeadTailOpener(headLength: headLength, tailLength: tailLength).open { range in
            try retryPolicy.run(object: name) { _ in
                try client.perform(HTTPRequest(method: "GET", url: url, headers: [("Range", range)]))
            }
        }
        let probe = answers.head
        size = try Self.size(from: probe, object: name)
        etag = probe.etag
        kept = answers.kept(size: size, etag: probe.etag)
    }

    /// The object's size from the answer to the opening head read.
    private static func size(from probe: HTTPResponse, object name: String) throws -> UInt64 {
        switch probe.status {
        case 206:
            guard let total = probe.contentRange?.total else {
                throw StorageError.io(object: name, reason: "206 answer without the object size in Content-Range")
            }
            return total
        case 416:
            return probe.unsatisfiedRangeTotal ?? 0
        case 200:
            let length = probe.headers["content-length"].flatMap(UInt64.init) ?? UInt64(probe.body.count)
            guard length == 0 else {
                throw StorageError.io(object: name, reason: "the server does not support range requests")
            }
            return 0
        default:
            throw S3ErrorMapping(access: .presignedURL).error(for: probe, object: name)
        }
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
            failure: { [displayName, errors] response, _ in errors.error(for: response, object: displayName) },
            currentSize: { [size] in size }
        ).run()
    }

    public func read(ranges: [ByteRange]) throws -> [[UInt8]] {
        try ParallelWork.map(count: ranges.count, width: parallelRequests) { [self] index in try read(ranges[index]) }
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

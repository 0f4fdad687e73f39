/// A complete HTTP response: status, headers (names lowercased) and body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The ETag header without quotes (and without a weak `W/` marker).
    public var etag: String? {
        headers["etag"].map(HTTPResponse.unquote)
    }

    static func unquote(_ etag: String) -> String {
        var tag = Substring(etag)
        if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
        if tag.count >= 2 && tag.hasPrefix("\"") && tag.hasSuffix("\"") { tag = tag.dropFirst().dropLast() }
        return String(tag)
    }

    /// `(first, last, total)` from `Content-Range: bytes first-last/total`; total nil when `*`.
    var contentRange: (first: UInt64, last: UInt64, total: UInt64?)? {
        guard let value = headers["content-range"], value.hasPrefix("bytes ") else { return nil }
        let spec = value.dropFirst(6)
        let parts = spec.split(separator: "/", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let bounds = parts[0].split(separator: "-", maxSplits: 1)
        guard bounds.count == 2, let first = UInt64(bounds[0]), let last = UInt64(bounds[1]) else { return nil }
        return (first, last, UInt64(parts[1]))
    }

    /// The body of a 206 answer to an opening read of the object's first `length` bytes, if it is
    /// exactly those bytes of an object of `size` bytes.
    func head(length: Int, size: UInt64) -> [UInt8]? {
        guard status == 206, let range = contentRange, range.first == 0, range.total == size,
            UInt64(body.count) == min(size, UInt64(length))
        else { return nil }
        return body
    }

    /// The body of a 206 answer to a suffix read (`bytes=-N`), if it really ends an object of
    /// `size` bytes and is of version `etag`.
    func tail(size: UInt64, etag: String?) -> [UInt8]? {
        guard status == 206, self.etag == etag, let range = contentRange, range.total == size,
            range.last + 1 == size, UInt64(body.count) == size - range.first
        else { return nil }
        return body
    }

    /// The total size from `Content-Range: bytes */total` (a 416 answer).
    var unsatisfiedRangeTotal: UInt64? {
        guard let value = headers["content-range"], value.hasPrefix("bytes */") else { return nil }
        return UInt64(value.dropFirst(8))
    }
}

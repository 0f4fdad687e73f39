import Crypto
import Foundation
import Logging
import Storage

/// An `ObjectStore` in an S3-compatible bucket (R2, AWS S3, MinIO, moto), over libcurl.
///
/// Requests are path-style (`endpoint/bucket/key`) and signed with SigV4. Idempotent
/// requests are retried with backoff on 5xx, 429/SlowDown, resets and timeouts; a GET
/// whose body is cut off continues from the first missing byte, pinned by `If-Match`.
public final class S3Store: ObjectStore {
    public let configuration: S3Configuration
    public let client: HTTPClient
    public let retryPolicy: RetryPolicy
    /// How many range requests `get(_:ranges:)` keeps in flight.
    public let parallelRequests: Int
    let signer: SigV4Signer
    private let baseURL: String
    private let hostHeader: String
    private let basePath: String
    private let logger = Logger(label: "sqbackup.s3")

    public init(
        configuration: S3Configuration, client: HTTPClient = .shared, retryPolicy: RetryPolicy = .standard,
        parallelRequests: Int = 16
    ) throws {
        guard let url = URLComponents(string: configuration.endpoint), let scheme = url.scheme?.lowercased(),
            scheme == "https" || scheme == "http", let host = url.host, !host.isEmpty, url.user == nil,
            url.query == nil
        else {
            throw StorageError.invalidConfiguration(
                reason:
                    "endpoint \"\(configuration.endpoint)\" is not an http(s) URL such as https://<account>.r2.cloudflarestorage.com"
            )
        }
        guard !configuration.bucket.isEmpty, !configuration.bucket.contains("/") else {
            throw StorageError.invalidConfiguration(reason: "bucket name \"\(configuration.bucket)\" is not valid")
        }
        self.configuration = configuration
        self.client = client
        self.retryPolicy = retryPolicy
        self.parallelRequests = max(1, parallelRequests)
        signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region, service: "s3")
        let defaultPort = scheme == "https" ? 443 : 80
        let hostPart = host.contains(":") ? "[\(host)]" : host
        hostHeader = url.port.map { $0 == defaultPort ? hostPart : "\(hostPart):\($0)" } ?? hostPart
        var path = url.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        basePath = path
        baseURL = "\(scheme)://\(hostHeader)"
    }

    public var displayName: String { "s3://\(configuration.bucket)" }

    func objectName(_ key: String) -> String { "\(displayName)/\(key)" }

    // MARK: Objects

    public func head(_ key: String) throws -> ObjectInfo {
        let response = try send("HEAD", key: key, object: objectName(key))
        guard (200..<300).contains(response.status) else { throw failure(response, object: objectName(key)) }
        guard let length = response.headers["content-length"].flatMap(UInt64.init), let etag = response.etag else {
            throw StorageError.io(object: objectName(key), reason: "HEAD answer lacks Content-Length or ETag")
        }
        var metadata: [String: String] = [:]
        for (name, value) in response.headers where name.hasPrefix("x-amz-meta-") {
            metadata[String(name.dropFirst("x-amz-meta-".count))] = value
        }
        return ObjectInfo(
            key: key, size: length, etag: etag,
            lastModified: response.headers["last-modified"].flatMap(Self.parseHTTPDate),
            metadata: metadata)
    }

    /// Opens `key` with two ranged GETs sent at once instead of HEAD, then GETs: the head of the
    /// object (its Content-Range and ETag give the size and version) and its last MiB (`bytes=-N`
    /// needs no size). Both bodies are kept, so an image reader's superblock and metadata-table
    /// reads cost no further round trip when the tables fit in the tail.
    public func rangeSource(for key: String) throws -> any RangeSource {
        let headLength = 128 << 10
        let tailLength = 1 << 20
        let ranges = ["bytes=0-\(headLength - 1)", "bytes=-\(tailLength)"]
        // The tail is only a shortcut: its failure is not the open's.
        let answers = try ParallelWork.map(count: 2, width: 2) { [self] index in
            Result { try send("GET", key: key, headers: [("Range", ranges[index])], object: objectName(key)) }
        }
        let response = try answers[0].get()
        guard response.status == 206, let total = response.contentRange?.total, let etag = response.etag
        else {
            // An empty object (416), or a server that ignores ranges: ask plainly.
            if response.status == 404 { throw failure(response, object: objectName(key)) }
            return StoreObjectSource(store: self, info: try head(key))
        }
        let info = ObjectInfo(
            key: key, size: total, etag: etag,
            lastModified: response.headers["last-modified"].flatMap(Self.parseHTTPDate))
        let kept = KeptBytes(
            size: total, head: response.head(length: headLength, size: total) ?? [],
            tail: (try? answers[1].get())?.tail(size: total, etag: etag) ?? [])
        return StoreObjectSource(store: self, info: info, kept: kept)
    }

    public func get(_ key: String, range: ByteRange?, ifMatch: String?) throws -> [UInt8] {
        if let range, range.length == 0 {
            // S3 cannot express an empty range; check that it lies inside the object.
            let info = try head(key)
            if let ifMatch, info.etag != ifMatch {
                throw StorageError.changed(object: objectName(key), reason: "ETag \(info.etag), expected \(ifMatch)")
            }
            guard range.offset <= info.size else {
                throw StorageError.outOfRange(object: objectName(key), range: range, size: info.size)
            }
            return []
        }
        return try RangedDownload(
            object: objectName(key), range: range, ifMatch: ifMatch, client: client, retryPolicy: retryPolicy,
            logger: logger,
            makeRequest: { [self] headers in signedRequest("GET", key: key, headers: headers) },
            failure: { [self] response, range in failure(response, object: objectName(key), range: range) },
            currentSize: { [self] in try? head(key).size }
        ).run()
    }

    public func get(_ key: String, ranges: [ByteRange], ifMatch: String?) throws -> [[UInt8]] {
        try ParallelWork.map(count: ranges.count, width: parallelRequests) { [self] index in
            try get(key, range: ranges[index], ifMatch: ifMatch)
        }
    }

    @discardableResult
    public func put(_ key: String, bytes: [UInt8], contentType: String?, metadata: [String: String]) throws -> String {
        var headers: [(name: String, value: String)] = []
        if let contentType { headers.append(("Content-Type", contentType)) }
        headers += metadata.sorted { $0.key < $1.key }.map { ("x-amz-meta-\($0.key.lowercased())", $0.value) }
        let response = try send("PUT", key: key, headers: headers, body: bytes, object: objectName(key))
        guard (200..<300).contains(response.status) else { throw failure(response, object: objectName(key)) }
        return response.etag ?? ""
    }

    public func delete(_ key: String) throws {
        let response = try send("DELETE", key: key, object: objectName(key))
        guard (200..<300).contains(response.status) || response.status == 404 else {
            throw failure(response, object: objectName(key))
        }
    }

    public func list(prefix: String, continuationToken: String?, maxKeys: Int) throws -> ObjectListing {
        var query: [(name: String, value: String)] = [
            ("list-type", "2"), ("prefix", prefix), ("max-keys", String(maxKeys)),
        ]
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        let response = try send("GET", key: nil, query: query, object: displayName)
        guard (200..<300).contains(response.status) else { throw failure(response, object: displayName) }
        guard let tree = XMLTree.parse(response.body), tree.name == "ListBucketResult" else {
            throw StorageError.io(object: displayName, reason: "ListObjectsV2 answer is not a ListBucketResult")
        }
        let objects = try tree.all("Contents").map { entry -> ObjectInfo in
            guard let key = entry.value("Key"), let size = entry.value("Size").flatMap(UInt64.init) else {
                throw StorageError.io(object: displayName, reason: "ListObjectsV2 entry lacks Key or Size")
            }
            return ObjectInfo(
                key: key, size: size, etag: HTTPResponse.unquote(entry.value("ETag") ?? ""),
                lastModified: entry.value("LastModified").flatMap(Self.parseISODate))
        }
        let truncated = tree.value("IsTruncated") == "true"
        let token = tree.value("NextContinuationToken").flatMap { $0.isEmpty ? nil : $0 }
        if truncated && token == nil {
            throw StorageError.io(object: displayName, reason: "truncated listing without NextContinuationToken")
        }
        return ObjectListing(objects: objects, nextContinuationToken: truncated ? token : nil)
    }

    // MARK: Multipart

    public func createMultipartUpload(_ key: String, contentType: String?, metadata: [String: String]) throws -> String
    {
        var headers: [(name: String, value: String)] = []
        if let contentType { headers.append(("Content-Type", contentType)) }
        headers += metadata.sorted { $0.key < $1.key }.map { ("x-amz-meta-\($0.key.lowercased())", $0.value) }
        // Not idempotent, but a duplicate only leaves an empty upload that prune removes.
        let response = try send("POST", key: key, query: [("uploads", "")], headers: headers, object: objectName(key))
        guard (200..<300).contains(response.status) else { throw failure(response, object: objectName(key)) }
        guard let uploadId = XMLTree.parse(response.body)?.value("UploadId"), !uploadId.isEmpty else {
            throw StorageError.io(object: objectName(key), reason: "InitiateMultipartUpload answer lacks UploadId")
        }
        return uploadId
    }

    public func uploadPart(_ key: String, uploadId: String, partNumber: Int, bytes: [UInt8]) throws -> String {
        try uploadPart(key, uploadId: uploadId, partNumber: partNumber, bytes: bytes, payloadHash: nil)
    }

    public func uploadPart(_ key: String, uploadId: String, partNumber: Int, bytes: [UInt8], sha256: [UInt8])
        throws -> String
    {
        try uploadPart(key, uploadId: uploadId, partNumber: partNumber, bytes: bytes, payloadHash: sha256.hexString)
    }

    /// The part's SHA-256 goes into the signed `x-amz-content-sha256`: the server refuses a part whose
    /// bytes do not match it (XAmzContentSHA256Mismatch), and a retry sends the bytes again.
    private func uploadPart(_ key: String, uploadId: String, partNumber: Int, bytes: [UInt8], payloadHash: String?)
        throws -> String
    {
        let response = try send(
            "PUT", key: key, query: [("partNumber", String(partNumber)), ("uploadId", uploadId)], body: bytes,
            payloadHash: payloadHash, object: objectName(key))
        guard (200..<300).contains(response.status) else { throw failure(response, object: objectName(key)) }
        guard let etag = response.etag else {
            throw StorageError.io(object: objectName(key), reason: "UploadPart answer lacks ETag")
        }
        return etag
    }

    @discardableResult
    public func completeMultipartUpload(_ key: String, uploadId: String, parts: [CompletedPart]) throws -> String {
        let object = objectName(key)
        var xml = "<CompleteMultipartUpload>"
        for part in parts {
            xml +=
                "<Part><PartNumber>\(part.partNumber)</PartNumber><ETag>\"\(Self.escapeXML(HTTPResponse.unquote(part.etag)))\"</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let body = Array(xml.utf8)
        // Completing twice is harmless: the second attempt either succeeds again or answers
        // NoSuchUpload, and then the object's ETag tells whether our parts made it.
        var attempt = 0
        while true {
            attempt += 1
            let response: HTTPResponse
            do {
                response = try client.perform(
                    signedRequest("POST", key: key, query: [("uploadId", uploadId)], body: body))
            } catch {
                guard attempt < retryPolicy.maxAttempts else {
                    throw StorageError.io(object: object, reason: "\(error.message) (after \(attempt) attempts)")
                }
                retryPolicy.sleep(afterAttempt: attempt)
                continue
            }
            let tree = XMLTree.parse(response.body)
            // S3 may answer 200 and still report an error in the body.
            let errorCode = tree?.name == "Error" ? tree?.value("Code") : nil
            if (Self.isRetryable(response) || errorCode.map(Self.retryableCodes.contains) == true)
                && attempt < retryPolicy.maxAttempts
            {
                retryPolicy.sleep(afterAttempt: attempt, retryAfter: Self.retryAfter(response))
                continue
            }
            if (200..<300).contains(response.status) && errorCode == nil {
                return HTTPResponse.unquote(tree?.value("ETag") ?? "")
            }
            if attempt > 1 && response.status == 404 && tree?.value("Code") == "NoSuchUpload",
                let etag = try? head(key).etag, etag == Self.multipartETag(parts)
            {
                return etag
            }
            if errorCode != nil {
                throw StorageError.io(
                    object: object, reason: "\(errorCode ?? ""): \(sanitize(tree?.value("Message") ?? ""))")
            }
            throw failure(response, object: object)
        }
    }

    public func abortMultipartUpload(_ key: String, uploadId: String) throws {
        let response = try send("DELETE", key: key, query: [("uploadId", uploadId)], object: objectName(key))
        guard (200..<300).contains(response.status) else {
            throw failure(response, object: "\(objectName(key)) (upload \(uploadId))")
        }
    }

    public func listMultipartUploads(prefix: String) throws -> [MultipartUpload] {
        var uploads: [MultipartUpload] = []
        var markers: (key: String, uploadId: String)?
        repeat {
            var query: [(name: String, value: String)] = [("uploads", ""), ("prefix", prefix)]
            if let markers { query += [("key-marker", markers.key), ("upload-id-marker", markers.uploadId)] }
            let response = try send("GET", key: nil, query: query, object: displayName)
            guard (200..<300).contains(response.status) else { throw failure(response, object: displayName) }
            guard let tree = XMLTree.parse(response.body), tree.name == "ListMultipartUploadsResult" else {
                throw StorageError.io(object: displayName, reason: "ListMultipartUploads answer is not XML")
            }
            for upload in tree.all("Upload") {
                guard let key = upload.value("Key"), let id = upload.value("UploadId") else { continue }
                uploads.append(
                    MultipartUpload(
                        key: key, uploadId: id, initiated: upload.value("Initiated").flatMap(Self.parseISODate)))
            }
            markers = nil
            if tree.value("IsTruncated") == "true", let key = tree.value("NextKeyMarker"),
                let id = tree.value("NextUploadIdMarker"), !(key.isEmpty && id.isEmpty)
            {
                markers = (key, id)
            }
        } while markers != nil
        return uploads.sorted { ($0.initiated ?? .distantPast) < ($1.initiated ?? .distantPast) }
    }

    // MARK: Presigning

    /// A URL that lets anyone holding it GET `key` until it expires, with no credentials.
    /// Treat it as a secret: its query is a bearer token.
    public func presignedURL(for key: String, expiresIn seconds: Int = 3600, now: Date = Date()) -> String {
        let path = canonicalPath(key)
        let query = signer.presignedQuery(
            method: "GET", canonicalURI: path, query: [], host: hostHeader, timestamp: SigV4Signer.timestamp(now),
            expires: seconds)
        return baseURL + path + "?" + S3URIEncoding.canonicalQuery(query)
    }

    // MARK: Requests

    private func canonicalPath(_ key: String?) -> String {
        basePath + "/" + S3URIEncoding.encode(configuration.bucket)
            + (key.map { "/" + S3URIEncoding.encodeKey($0) } ?? "")
    }

    /// A freshly signed request (a retry signs again, so the date stays current).
    func signedRequest(
        _ method: String, key: String?, query: [(name: String, value: String)] = [],
        headers extra: [(name: String, value: String)] = [], body: [UInt8] = [], payloadHash knownHash: String? = nil
    ) -> HTTPRequest {
        let path = canonicalPath(key)
        let timestamp = SigV4Signer.timestamp(Date())
        let payloadHash = knownHash ?? (body.isEmpty ? SigV4Signer.emptyPayloadHash : SigV4Signer.sha256Hex(body))
        var headers: [(name: String, value: String)] = [
            ("Host", hostHeader), ("x-amz-content-sha256", payloadHash), ("x-amz-date", timestamp),
        ]
        if let token = configuration.credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
        headers += extra
        let authorization = signer.authorization(
            method: method, canonicalURI: path, query: query, headers: headers, payloadHash: payloadHash,
            timestamp: timestamp)
        headers.append(("Authorization", authorization))
        let queryString = S3URIEncoding.canonicalQuery(query)
        return HTTPRequest(
            method: method, url: baseURL + path + (queryString.isEmpty ? "" : "?" + queryString), headers: headers,
            body: body)
    }

    /// Sends an idempotent request with retries; returns the last response whatever its status.
    private func send(
        _ method: String, key: String?, query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [], body: [UInt8] = [], payloadHash knownHash: String? = nil,
        object: String
    ) throws -> HTTPResponse {
        // Hash a large part once, not once per attempt (and not at all when the caller already did).
        let payloadHash = knownHash ?? (body.isEmpty ? SigV4Signer.emptyPayloadHash : SigV4Signer.sha256Hex(body))
        var attempt = 0
        while true {
            attempt += 1
            do {
                let response = try client.perform(
                    signedRequest(
                        method, key: key, query: query, headers: headers, body: body, payloadHash: payloadHash))
                if Self.isRetryable(response) && attempt < retryPolicy.maxAttempts {
                    logger.debug("retrying \(method) \(object): HTTP \(response.status)")
                    retryPolicy.sleep(afterAttempt: attempt, retryAfter: Self.retryAfter(response))
                    continue
                }
                return response
            } catch {
                guard attempt < retryPolicy.maxAttempts, error.kind != .tls else {
                    throw StorageError.io(
                        object: object, reason: "\(error.message) (\(method), after \(attempt) attempts)")
                }
                logger.debug("retrying \(method) \(object): \(error.message)")
                retryPolicy.sleep(afterAttempt: attempt)
            }
        }
    }

    /// A payload that arrived damaged (its signed SHA-256 or Content-MD5 does not match) is sent again.
    static let retryableCodes: Set<String> = [
        "SlowDown", "InternalError", "RequestTimeout", "ServiceUnavailable", "XAmzContentSHA256Mismatch", "BadDigest",
    ]

    static func isRetryable(_ response: HTTPResponse) -> Bool {
        if [429, 500, 502, 503, 504].contains(response.status) { return true }
        if response.status == 400, let code = XMLTree.parse(response.body)?.value("Code") {
            return retryableCodes.contains(code)
        }
        return false
    }

    static func retryAfter(_ response: HTTPResponse) -> Double? {
        response.headers["retry-after"].flatMap(Double.init)
    }

    /// Maps a final non-2xx answer to a `StorageError` carrying the S3 error code.
    func failure(_ response: HTTPResponse, object: String, range: ByteRange? = nil) -> StorageError {
        let tree = XMLTree.parse(response.body)
        let code = tree?.value("Code") ?? "HTTP \(response.status)"
        let message = sanitize(tree?.value("Message") ?? "")
        let reason = message.isEmpty ? code : "\(code): \(message)"
        switch response.status {
        case 404:
            if code == "NoSuchBucket" { return .notFound(object: "\(displayName) (NoSuchBucket)") }
            return .notFound(object: object)
        case 401, 403:
            return .unauthorized(
                object: object,
                reason: tree == nil ? "HTTP \(response.status); check the access key id and secret" : reason)
        case 412:
            return .changed(object: object, reason: "\(code): the ETag no longer matches")
        case 416:
            return .outOfRange(
                object: object, range: range ?? ByteRange(offset: 0, length: 0),
                size: response.unsatisfiedRangeTotal ?? 0)
        default:
            return .io(object: object, reason: "HTTP \(response.status) \(reason)")
        }
    }

    /// Server messages are echoed to users; make sure no credential rides along.
    private func sanitize(_ text: String) -> String {
        var text = text
        for secret in [configuration.credentials.secretAccessKey, configuration.credentials.sessionToken ?? ""]
        where !secret.isEmpty {
            text = text.replacingOccurrences(of: secret, with: "<redacted>")
        }
        return text
    }

    /// The ETag S3 gives a completed multipart object: MD5 of the parts' binary MD5s, `-N`.
    static func multipartETag(_ parts: [CompletedPart]) -> String? {
        var digests: [UInt8] = []
        for part in parts {
            let hex = Array(HTTPResponse.unquote(part.etag).utf8)
            guard hex.count == 32 else { return nil }
            for index in stride(from: 0, to: 32, by: 2) {
                guard let byte = UInt8(String(decoding: hex[index..<index + 2], as: UTF8.self), radix: 16) else {
                    return nil
                }
                digests.append(byte)
            }
        }
        return Insecure.MD5.hash(data: digests).hexString + "-\(parts.count)"
    }

    static func escapeXML(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func parseISODate(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) {
            return date
        }
        return try? Date(text, strategy: Date.ISO8601FormatStyle())
    }

    static func parseHTTPDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}

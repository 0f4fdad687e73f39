import Foundation
import Logging
import Storage

/// An `ObjectStore` in an S3-compatible bucket (R2, AWS S3, MinIO, moto), over libcurl.
///
/// Requests are path-style (`endpoint/bucket/key`) and signed with SigV4. Idempotent
/// requests are retried with backoff on 5xx, 429/SlowDown, resets and timeouts; a GET
/// whose body is cut off continues from the first missing byte, pinned by `If-Match`.
/// Each S3 call lives in its own `S3Store+Call.swift`; this file holds the shared request path.
public final class S3Store: ObjectStore {
    public let configuration: S3Configuration
    public let client: HTTPClient
    public let retryPolicy: RetryPolicy
    /// How many range requests `get(_:ranges:)` keeps in flight.
    public let parallelRequests: Int
    let signer: SigV4Signer
    let errors: S3ErrorMapping
    let baseURL: String
    let hostHeader: String
    private let basePath: String
    let logger = Logger(label: "sqbackup.s3")

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
        let credentials = configuration.credentials
        errors = S3ErrorMapping(
            access: .signed(
                bucket: "s3://\(configuration.bucket)",
                secrets: [credentials.secretAccessKey, credentials.sessionToken ?? ""].filter { !$0.isEmpty }))
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

    // MARK: The shared request path

    func canonicalPath(_ key: String?) -> String {
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
    func send(
        _ method: String, key: String?, query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [], body: [UInt8] = [], payloadHash knownHash: String? = nil,
        object: String
    ) throws -> HTTPResponse {
        // Hash a large part once, not once per attempt (and not at all when the caller already did).
        let payloadHash = knownHash ?? (body.isEmpty ? SigV4Signer.emptyPayloadHash : SigV4Signer.sha256Hex(body))
        return try retryPolicy.run(object: object, operation: method, logger: logger) { _ in
            try client.perform(
                signedRequest(method, key: key, query: query, headers: headers, body: body, payloadHash: payloadHash))
        }
    }

    /// Maps a final non-2xx answer to a `StorageError` carrying the S3 error code.
    func failure(_ response: HTTPResponse, object: String, range: ByteRange? = nil) -> StorageError {
        errors.error(for: response, object: object, range: range)
    }

    /// `x-amz-meta-*` headers for user metadata, in a stable order, after the content type.
    static func objectHeaders(contentType: String?, metadata: [String: String]) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        if let contentType { headers.append(("Content-Type", contentType)) }
        headers += metadata.sorted { $0.key < $1.key }.map { ("x-amz-meta-\($0.key.lowercased())", $0.value) }
        return headers
    }
}

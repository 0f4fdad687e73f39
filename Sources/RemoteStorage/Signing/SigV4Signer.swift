import Crypto
import Foundation

/// AWS Signature Version 4 (header and query-string forms) for one region and service.
///
/// The caller passes the canonical URI already encoded (S3 does not encode it twice) and
/// the query unencoded; headers to sign are exactly the ones given.
public struct SigV4Signer: Sendable {
    public let credentials: AWSCredentials
    public let region: String
    public let service: String

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// SHA-256 of an empty payload, hex.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// Payload hash for presigned URLs and streaming bodies that are not hashed.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// Hex SHA-256 of `bytes`.
    public static func sha256Hex(_ bytes: some DataProtocol) -> String {
        SHA256.hash(data: bytes).hexString
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    public static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }

    /// The canonical request of the SigV4 specification.
    public func canonicalRequest(
        method: String, canonicalURI: String, query: [(name: String, value: String)],
        headers: [(name: String, value: String)], payloadHash: String
    ) -> String {
        let canonical = Self.canonicalHeaders(headers)
        return [
            method, canonicalURI, S3URIEncoding.canonicalQuery(query),
            canonical.map { "\($0.name):\($0.value)\n" }.joined(),
            canonical.map(\.name).joined(separator: ";"), payloadHash,
        ].joined(separator: "\n")
    }

    /// `<date>/<region>/<service>/aws4_request`.
    public func scope(timestamp: String) -> String {
        "\(timestamp.prefix(8))/\(region)/\(service)/aws4_request"
    }

    public func stringToSign(canonicalRequest: String, timestamp: String) -> String {
        [
            "AWS4-HMAC-SHA256", timestamp, scope(timestamp: timestamp),
            Self.sha256Hex(Array(canonicalRequest.utf8)),
        ].joined(separator: "\n")
    }

    /// The derived key `HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request")`.
    public func signingKey(date: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [date, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    public func signature(stringToSign: String, timestamp: String) -> String {
        let key = signingKey(date: String(timestamp.prefix(8)))
        return HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key).hexString
    }

    /// The `Authorization` header value for a request whose signed headers are `headers`
    /// (which must include `host`, `x-amz-date` and, for S3, `x-amz-content-sha256`).
    public func authorization(
        method: String, canonicalURI: String, query: [(name: String, value: String)],
        headers: [(name: String, value: String)], payloadHash: String, timestamp: String
    ) -> String {
        let request = canonicalRequest(
            method: method, canonicalURI: canonicalURI, query: query, headers: headers, payloadHash: payloadHash)
        let signature = signature(
            stringToSign: stringToSign(canonicalRequest: request, timestamp: timestamp), timestamp: timestamp)
        let signed = Self.canonicalHeaders(headers).map(\.name).joined(separator: ";")
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope(timestamp: timestamp)), "
            + "SignedHeaders=\(signed), Signature=\(signature)"
    }

    /// The query of a presigned URL (`query` plus the `X-Amz-*` parameters and the
    /// signature), for a request that signs only `host`.
    public func presignedQuery(
        method: String, canonicalURI: String, query: [(name: String, value: String)], host: String,
        timestamp: String, expires: Int
    ) -> [(name: String, value: String)] {
        var signedQuery =
            query + [
                ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
                ("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope(timestamp: timestamp))"),
                ("X-Amz-Date", timestamp),
                ("X-Amz-Expires", String(expires)),
                ("X-Amz-SignedHeaders", "host"),
            ]
        if let token = credentials.sessionToken { signedQuery.append(("X-Amz-Security-Token", token)) }
        let request = canonicalRequest(
            method: method, canonicalURI: canonicalURI, query: signedQuery, headers: [("host", host)],
            payloadHash: Self.unsignedPayload)
        let signature = signature(
            stringToSign: stringToSign(canonicalRequest: request, timestamp: timestamp), timestamp: timestamp)
        return signedQuery + [("X-Amz-Signature", signature)]
    }

    /// Lowercased names, values trimmed with inner runs of spaces collapsed, sorted by
    /// name; repeated names joined with commas.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> [(name: String, value: String)] {
        var merged: [String: [String]] = [:]
        for header in headers {
            let value = header.value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
            merged[header.name.lowercased(), default: []].append(value)
        }
        return merged.keys.sorted().map { ($0, merged[$0]!.joined(separator: ",")) }
    }
}

extension Sequence where Element == UInt8 {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

import RemoteStorage
import TestSupport

/// How the tests reach the bucket pool's moto server: plain HTTP, or HTTPS through nginx with a
/// certificate of the test CA (what R2 needs: it speaks only HTTPS).
public enum S3Transport: String, CaseIterable, CustomStringConvertible, Sendable {
    case http
    case https

    public var description: String { rawValue }

    /// The pool's endpoint over this transport.
    public func endpoint() throws -> String {
        let pool = try S3BucketPool.shared()
        switch self {
        case .http: return pool.endpoint
        case .https: return try TLSProxy.shared(upstreamPort: pool.port).endpoint
        }
    }

    /// The CAs the tests' own clients trust: the test CA over HTTPS.
    public func trust() throws -> TLSTrust {
        switch self {
        case .http: return .system
        case .https: return TLSTrust(caBundle: try TestCertificateAuthority.shared().certificatePath)
        }
    }

    /// The CLI's environment for `bucket` (the spec's variables); over HTTPS with `AWS_CA_BUNDLE`
    /// naming the test CA, as an R2 user with a private CA would set it. The other CA variables
    /// are cleared: a machine may set them all to its system bundle.
    public func environment(bucket: String) throws -> [String: String] {
        var environment = try S3BucketPool.shared().environment(bucket: bucket, endpoint: try endpoint())
        if let bundle = try trust().caBundle {
            environment.merge(Self.caVariables(["AWS_CA_BUNDLE": bundle])) { $1 }
        }
        return environment
    }

    /// Every CA bundle variable the CLI reads, empty (unset for it) unless given in `set`.
    public static func caVariables(_ set: [String: String] = [:]) -> [String: String] {
        ["AWS_CA_BUNDLE": "", "CURL_CA_BUNDLE": "", "SSL_CERT_FILE": ""].merging(set) { $1 }
    }
}

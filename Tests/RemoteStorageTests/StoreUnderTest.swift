import Foundation
import RemoteStorage
import Storage
import TestSupport

/// The stores the conformance suite runs against.
enum StoreUnderTest: String, CaseIterable, CustomStringConvertible, Sendable {
    case local
    case s3
    /// moto behind nginx terminating TLS with a certificate of the test CA, trusted through a CA bundle.
    case s3OverTLS

    var description: String { rawValue }

    /// A store plus a key prefix private to one test; `cleanup` removes what the test made.
    func make() throws -> (store: any ObjectStore, prefix: String, cleanup: @Sendable () -> Void) {
        switch self {
        case .local:
            let directory = try TemporaryDirectory("store")
            return (try LocalDirectoryStore(root: directory.path), "t/", { directory.remove() })
        case .s3, .s3OverTLS:
            let store = try self == .s3 ? S3Store.forTests() : S3Store.overTLSForTests()
            let prefix = "t-\(UUID().uuidString.prefix(8))/"
            return (
                store, prefix,
                {
                    for object in (try? store.listAll(prefix: prefix)) ?? [] { try? store.delete(object.key) }
                }
            )
        }
    }
}

extension S3Store {
    /// A store on the shared moto server, optionally through another endpoint (a proxy).
    static func forTests(
        endpoint: String? = nil, secret: String? = nil, bucket: String = S3TestServer.bucket,
        retryPolicy: RetryPolicy = RetryPolicy(maxAttempts: 5, baseDelay: 0.01, maxDelay: 0.1),
        client: HTTPClient = .shared
    ) throws -> S3Store {
        let server = try S3TestServer.shared()
        return try S3Store(
            configuration: S3Configuration(
                endpoint: endpoint ?? server.endpoint, bucket: bucket, region: server.region,
                credentials: AWSCredentials(
                    accessKeyId: server.accessKeyId, secretAccessKey: secret ?? server.secretAccessKey)),
            client: client, retryPolicy: retryPolicy)
    }
}

extension S3Store {
    /// A store on the shared moto server through its TLS proxy, trusting the test CA (or, with
    /// `caBundle`, another file; `.system` for none).
    static func overTLSForTests(
        trust: TLSTrust? = nil,
        retryPolicy: RetryPolicy = RetryPolicy(maxAttempts: 5, baseDelay: 0.01, maxDelay: 0.1)
    ) throws -> S3Store {
        let proxy = try TLSProxy.shared(upstreamPort: try S3TestServer.shared().port)
        let trust = try trust ?? TLSTrust(caBundle: TestCertificateAuthority.shared().certificatePath)
        return try forTests(endpoint: proxy.endpoint, retryPolicy: retryPolicy, client: trust.client)
    }
}

/// Deterministic test content.
func pattern(_ count: Int, seed: UInt8 = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &+ $0 >> 8) }
}

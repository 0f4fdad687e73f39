import RemoteStorage
import Storage
import TestSupport

/// Where a catalog test keeps its backups: a fresh local store, or a fresh bucket on moto
/// (over plain HTTP, or over HTTPS with the CLI trusting the test CA through `AWS_CA_BUNDLE`).
public enum CatalogStoreKind: String, CaseIterable, CustomStringConvertible, Sendable {
    case local
    case s3
    case s3OverTLS

    public var description: String { rawValue }

    public func make() throws -> CatalogFixture {
        switch self {
        case .local:
            let directory = try TemporaryDirectory("catalog")
            return CatalogFixture(
                store: try LocalDirectoryStore(root: directory.path),
                storeArguments: ["--store", "file://\(directory.path)"],
                environment: ["SQBACKUP_STORE": "", "SQBACKUP_STORE_DIR": ""], cleanup: { directory.remove() })
        case .s3, .s3OverTLS:
            let transport: S3Transport = self == .s3 ? .http : .https
            let bucket = try S3BucketPool.shared().takeBucket()
            return CatalogFixture(
                store: try CreateFixture.poolStore(bucket: bucket, transport: transport), storeArguments: [],
                environment: try transport.environment(bucket: bucket), cleanup: {})
        }
    }
}

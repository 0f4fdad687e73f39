import RemoteStorage
import Storage
import TestSupport

/// Where a catalog test keeps its backups: a fresh local store, or a fresh bucket on moto.
public enum CatalogStoreKind: String, CaseIterable, CustomStringConvertible, Sendable {
    case local
    case s3

    public var description: String { rawValue }

    public func make() throws -> CatalogFixture {
        switch self {
        case .local:
            let directory = try TemporaryDirectory("catalog")
            return CatalogFixture(
                store: try LocalDirectoryStore(root: directory.path),
                storeArguments: ["--store", "file://\(directory.path)"],
                environment: ["SQBACKUP_STORE": "", "SQBACKUP_STORE_DIR": ""], cleanup: { directory.remove() })
        case .s3:
            let pool = try S3BucketPool.shared()
            let bucket = try pool.takeBucket()
            let store = try S3Store(
                configuration: S3Configuration(
                    endpoint: pool.endpoint, bucket: bucket, region: pool.region,
                    credentials: AWSCredentials(accessKeyId: pool.accessKeyId, secretAccessKey: pool.secretAccessKey)),
                retryPolicy: RetryPolicy(maxAttempts: 3, baseDelay: 0.01, maxDelay: 0.05))
            return CatalogFixture(
                store: store, storeArguments: [], environment: pool.environment(bucket: bucket), cleanup: {})
        }
    }
}

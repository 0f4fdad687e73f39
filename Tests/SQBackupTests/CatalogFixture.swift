import Foundation
import RemoteStorage
import SQBackup
import Storage
import TestSupport
import Testing

/// Where a catalog test keeps its backups: a fresh local store, or a fresh bucket on moto.
enum CatalogStoreKind: String, CaseIterable, CustomStringConvertible, Sendable {
    case local
    case s3

    var description: String { rawValue }

    func make() throws -> CatalogFixture {
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

/// A store plus helpers that write backups the way `create` (or the vendor's SDK) leaves them.
struct CatalogFixture: Sendable {
    let store: any ObjectStore
    /// Arguments that point the CLI at this store, together with `environment`.
    let storeArguments: [String]
    let environment: [String: String]
    let cleanup: @Sendable () -> Void

    var catalog: BackupCatalog { BackupCatalog(store: store) }

    /// Stores `data` and a meta.json for a new backup; returns its metadata.
    @discardableResult
    func seed(
        id: String = BackupID.generate(), dir: String = "/workspace", data: [UInt8] = Array(repeating: 7, count: 4096),
        createdAt: Date = Date(), ttl: Int = BackupMetadata.defaultTTL, sandboxId: String? = "sandbox-a",
        description: String? = nil, metadata: [String: String]? = nil
    ) throws -> BackupMetadata {
        var meta = BackupMetadata(
            id: id, dir: dir, sizeBytes: UInt64(data.count), createdAt: createdAt, ttl: ttl, sandboxId: sandboxId,
            description: description, metadata: metadata)
        meta.compressor = "zstd"
        try store.put("backups/\(id)/data.sqsh", bytes: data)
        try store.put("backups/\(id)/meta.json", bytes: Array(try BackupJSON.encoder().encode(meta)))
        return meta
    }

    /// Stores an image file as a backup.
    @discardableResult
    func seed(image path: String, createdAt: Date = Date(), ttl: Int = BackupMetadata.defaultTTL) throws
        -> BackupMetadata
    {
        let data = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        return try seed(data: data, createdAt: createdAt, ttl: ttl)
    }

    /// Writes `text` as the meta.json of `id` (for vendor-written and broken files).
    func writeMeta(_ text: String, id: String, dataSize: Int = 4096) throws {
        try store.put("backups/\(id)/data.sqsh", bytes: Array(repeating: 1, count: dataSize))
        try store.put("backups/\(id)/meta.json", bytes: Array(text.utf8))
    }

    /// Runs the CLI against this store.
    func run(_ arguments: [String]) throws -> Shell.Output {
        guard let command = arguments.first else { return try SQBackupBinary.run([], environment: environment) }
        return try SQBackupBinary.run([command] + storeArguments + arguments.dropFirst(), environment: environment)
    }
}

/// Expects `body` to throw a `BackupError` with `code`; returns it.
@discardableResult
func expectBackupError(_ code: BackupError.Code, _ body: () throws -> Void) -> BackupError? {
    do {
        try body()
    } catch let error as BackupError {
        if error.code != code { Issue.record("expected \(code.rawValue), got \(error)") }
        return error
    } catch {
        Issue.record("expected a BackupError \(code.rawValue), got \(error)")
        return nil
    }
    Issue.record("expected \(code.rawValue), but nothing was thrown")
    return nil
}

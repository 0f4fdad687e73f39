import Foundation
import SQBackup
import Storage
import TestSupport

/// A store plus helpers that write backups the way `create` (or the vendor's SDK) leaves them.
public struct CatalogFixture: Sendable {
    public let store: any ObjectStore
    /// Arguments that point the CLI at this store, together with `environment`.
    public let storeArguments: [String]
    public let environment: [String: String]
    public let cleanup: @Sendable () -> Void

    public init(
        store: any ObjectStore, storeArguments: [String], environment: [String: String],
        cleanup: @escaping @Sendable () -> Void
    ) {
        self.store = store
        self.storeArguments = storeArguments
        self.environment = environment
        self.cleanup = cleanup
    }

    public var catalog: BackupCatalog { BackupCatalog(store: store) }

    /// Stores `data` and a meta.json for a new backup; returns its metadata.
    @discardableResult
    public func seed(
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
    public func seed(image path: String, createdAt: Date = Date(), ttl: Int = BackupMetadata.defaultTTL) throws
        -> BackupMetadata
    {
        let data = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        return try seed(data: data, createdAt: createdAt, ttl: ttl)
    }

    /// Writes `text` as the meta.json of `id` (for vendor-written and broken files).
    public func writeMeta(_ text: String, id: String, dataSize: Int = 4096) throws {
        try store.put("backups/\(id)/data.sqsh", bytes: Array(repeating: 1, count: dataSize))
        try store.put("backups/\(id)/meta.json", bytes: Array(text.utf8))
    }

    /// Runs the CLI against this store.
    public func run(_ arguments: [String]) throws -> Shell.Output {
        guard let command = arguments.first else { return try SQBackupBinary.run([], environment: environment) }
        return try SQBackupBinary.run([command] + storeArguments + arguments.dropFirst(), environment: environment)
    }
}

import Foundation
import Storage

/// The backups in one store: `backups/<id>/data.sqsh` plus `backups/<id>/meta.json`, the latter
/// written last, so a backup exists exactly when its meta.json does.
public struct BackupCatalog: Sendable {
    public let store: any ObjectStore
    /// Listing page size; small values exercise continuation in tests.
    public var pageSize = 1000
    /// meta.json reads in flight while listing.
    public var parallelReads = 16
    /// The clock expiry is judged by.
    public var now: @Sendable () -> Date = { Date() }

    public init(store: any ObjectStore) {
        self.store = store
    }

    /// The catalog of the store `selection` names; `meter`, when given, counts its requests.
    public static func open(
        _ selection: StoreSelection, environment: [String: String] = ProcessInfo.processInfo.environment,
        meter: RequestMeter? = nil
    ) throws -> BackupCatalog {
        BackupCatalog(store: try selection.open(environment: environment, meter: meter))
    }

    /// Where the backups live, for messages.
    public var storeName: String { store.displayName }

    // MARK: Reading

    /// Every complete backup, newest first, optionally only those of `sandboxId` and carrying every
    /// `metadata` key with the given value. Expired backups are listed (until pruned).
    public func list(sandboxId: String? = nil, metadata: [String: String] = [:]) throws -> BackupList {
        do {
            return try listUnwrapped(sandboxId: sandboxId, metadata: metadata)
        } catch {
            throw BackupError.wrapping(error, as: .invalidConfig)
        }
    }

    private func listUnwrapped(sandboxId: String?, metadata: [String: String]) throws -> BackupList {
        let ids = try catalogObjects().metaIDs
        let store = self.store
        let results = try ParallelWork.map(count: ids.count, width: parallelReads) { index in
            Result { () throws(BackupError) -> BackupMetadata? in
                do {
                    return try Self.readMeta(store: store, id: ids[index])
                } catch let error as BackupError {
                    throw error
                } catch {
                    throw BackupError.wrapping(error, as: .invalidImage)
                }
            }
        }
        var backups: [BackupMetadata] = []
        var problems: [BackupError] = []
        for result in results {
            switch result {
            case .success(let meta?): backups.append(meta)
            case .success(nil): break  // deleted while listing
            case .failure(let error): problems.append(error)
            }
        }
        backups.removeAll { meta in
            if let sandboxId, meta.sandboxId != sandboxId { return true }
            return metadata.contains { key, value in meta.metadata?[key] != value }
        }
        backups.sort { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
        return BackupList(backups: backups, problems: problems)
    }

    /// The metadata of backup `id`; BACKUP_NOT_FOUND when it does not exist. Expired backups are shown.
    public func show(_ id: String) throws -> BackupMetadata {
        try BackupID.validate(id)
        do {
            guard let meta = try Self.readMeta(store: store, id: id) else { throw notFound(id) }
            return meta
        } catch {
            throw BackupError.wrapping(error, as: .invalidImage)
        }
    }

    /// The image of backup `id`, pinned to its current version; refuses unknown (BACKUP_NOT_FOUND)
    /// and expired (BACKUP_EXPIRED) backups.
    public func resolve(_ id: String) throws -> any RangeSource {
        try openImage(of: try liveMetadata(id))
    }

    /// The meta.json of backup `id`, refusing unknown and expired backups.
    func liveMetadata(_ id: String) throws -> BackupMetadata {
        let meta = try show(id)
        if meta.isExpired(at: now()) {
            throw BackupError(
                .expired,
                "backup \(id) expired at \(BackupJSON.format(meta.expiresAt)) and is no longer available "
                    + "(treated as not found; `sqbackup prune` deletes it)")
        }
        return meta
    }

    /// The image of the backup `meta` describes, pinned to its current version.
    func openImage(of meta: BackupMetadata) throws -> any RangeSource {
        do {
            let source = try store.rangeSource(for: BackupID.dataKey(meta.id))
            guard source.size == meta.sizeBytes else {
                throw BackupError(
                    .invalidImage,
                    "backup \(meta.id): data.sqsh has \(source.size) bytes but meta.json says \(meta.sizeBytes)")
            }
            return source
        } catch StorageError.notFound {
            throw BackupError(.notFound, "backup \(meta.id): image data.sqsh not found in \(storeName)")
        } catch {
            throw BackupError.wrapping(error, as: .restoreFailed)
        }
    }

    // MARK: Removing

    /// Deletes backups: meta.json first (so a half-deleted backup is no longer listed), then the rest.
    /// Every id is checked before anything is deleted.
    public func delete(_ ids: [String]) throws {
        for id in ids { try BackupID.validate(id) }
        for id in ids {
            do {
                let objects = try store.listAll(prefix: BackupID.prefix(id), pageSize: pageSize)
                guard !objects.isEmpty else { throw notFound(id) }
            } catch {
                throw BackupError.wrapping(error, as: .invalidConfig)
            }
        }
        for id in ids {
            do {
                try removeBackup(id)
            } catch {
                throw BackupError.wrapping(error, as: .invalidConfig)
            }
        }
    }

    /// Removes expired backups, multipart uploads started more than `uploadsOlderThan` seconds ago,
    /// and leftovers of killed creates (objects without meta.json) as old; with `dryRun`, only reports.
    public func prune(dryRun: Bool, uploadsOlderThan: TimeInterval = 24 * 3600) throws -> PruneReport {
        do {
            var report = PruneReport(dryRun: dryRun)
            let now = now()
            let cutoff = now.addingTimeInterval(-uploadsOlderThan)
            let objects = try catalogObjects()
            let list = try listUnwrapped(sandboxId: nil, metadata: [:])
            report.expired = list.backups.filter { $0.isExpired(at: now) }.sorted { $0.createdAt < $1.createdAt }
            let stale = try store.listMultipartUploads(prefix: "backups/").filter { upload in
                guard let initiated = upload.initiated else { return false }
                return initiated < cutoff
            }
            report.staleUploads = stale.map { "\($0.key) (upload \($0.uploadId))" }
            let complete = objects.metaIDs
            report.orphans = objects.all.filter { object in
                guard let id = Self.backupID(of: object.key), !complete.contains(id) else { return false }
                return (object.lastModified ?? now) < cutoff
            }.map(\.key)
            guard !dryRun else { return report }
            for meta in report.expired { try removeBackup(meta.id) }
            for upload in stale {
                do {
                    try store.abortMultipartUpload(upload.key, uploadId: upload.uploadId)
                } catch StorageError.notFound {
                    // Completed or aborted meanwhile.
                }
            }
            for key in report.orphans { try store.delete(key) }
            return report
        } catch {
            throw BackupError.wrapping(error, as: .invalidConfig)
        }
    }

    // MARK: Internals

    private func removeBackup(_ id: String) throws {
        try store.delete(BackupID.metaKey(id))
        for object in try store.listAll(prefix: BackupID.prefix(id), pageSize: pageSize) {
            try store.delete(object.key)
        }
        for upload in try store.listMultipartUploads(prefix: BackupID.prefix(id)) {
            try? store.abortMultipartUpload(upload.key, uploadId: upload.uploadId)
        }
    }

    func catalogObjects() throws -> (all: [ObjectInfo], metaIDs: [String]) {
        let objects: [ObjectInfo]
        do {
            objects = try store.listAll(prefix: "backups/", pageSize: pageSize)
        } catch StorageError.notFound {
            throw Self.bucketNotFound(store)
        }
        let ids = objects.compactMap { object -> String? in
            guard object.key.hasSuffix("/meta.json"), let id = Self.backupID(of: object.key),
                object.key == BackupID.metaKey(id)
            else { return nil }
            return id
        }
        return (objects, ids)
    }

    /// The id of `backups/<id>/…` when it is a valid id; other keys under backups/ are not ours.
    static func backupID(of key: String) -> String? {
        let parts = key.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "backups", BackupID.isValid(String(parts[1])) else { return nil }
        return String(parts[1])
    }

    /// nil when meta.json does not exist.
    static func readMeta(store: any ObjectStore, id: String) throws -> BackupMetadata? {
        let bytes: [UInt8]
        do {
            bytes = try store.get(BackupID.metaKey(id))
        } catch StorageError.notFound {
            return nil
        }
        return try BackupMetadata.decode(bytes, backup: id)
    }

    /// A listing that finds no bucket at all is a configuration mistake, not a missing backup.
    static func bucketNotFound(_ store: any ObjectStore) -> BackupError {
        BackupError(
            .invalidConfig, "\(store.displayName): bucket not found; check BACKUP_BUCKET_NAME",
            reason: .bucketNotFound)
    }

    private func notFound(_ id: String) -> BackupError {
        BackupError(.notFound, "backup \(id) not found in \(storeName)")
    }
}

extension BackupCatalog {
    /// Backs up `dir` into this catalog's store: the spec's `createBackup(dir, options)`.
    public func createBackup(dir: String, options: BackupOptions = BackupOptions()) throws -> DirectoryBackup {
        guard let backup = try BackupCreator(catalog: self).create(dir: dir, options: options).backup else {
            throw BackupError(.createFailed, "the backup was not stored")
        }
        return backup.directoryBackup
    }
}

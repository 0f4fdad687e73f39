import Foundation
import Logging
import Storage
import Synchronization

/// The backups a store browser (`mount --all`) shows, listed again at most once per refresh interval.
///
/// What it costs: one store listing (of `backups/`, in pages of `pageSize` keys) per refresh gives
/// the ids and the ETag of every meta.json. A meta.json is read only when a date, a sandbox, a
/// filter or the expiry of that backup is asked for, and then once per version (ETag): listing the
/// ids again and again reads nothing, and a refresh that finds nothing new reads no meta.json.
/// Expired backups (`expiresAt` passed) are hidden, as are those the filters leave out; a backup
/// whose meta.json has not been read yet is listed by id until it is. A listing that fails keeps
/// the last one (logged) until the next refresh.
public final class BackupDirectoryListing: Sendable {
    public let catalog: BackupCatalog
    public let refreshInterval: TimeInterval
    /// Only backups of this sandbox, as `list --sandbox`.
    public let sandboxId: String?
    /// Only backups carrying every key with the given value, as `list --meta`.
    public let metadataFilter: [String: String]

    /// A meta.json as read for one ETag; nil when it is unreadable (the backup is hidden).
    private struct ReadMeta {
        let etag: String
        let meta: BackupMetadata?
    }

    private struct State {
        var listedAt: Date?
        /// id → meta.json ETag, from the last listing.
        var versions: [String: String] = [:]
        var metas: [String: ReadMeta] = [:]
    }

    private let state = Mutex(State())
    /// One listing at a time: requests arriving during a refresh wait for it rather than list too.
    private let refreshing = NSLock()
    private let logger: Logger

    public init(
        catalog: BackupCatalog, refreshInterval: TimeInterval, sandboxId: String? = nil,
        metadataFilter: [String: String] = [:], logger: Logger = Logger(label: "sqbackup.mount")
    ) {
        self.catalog = catalog
        self.refreshInterval = refreshInterval
        self.sandboxId = sandboxId
        self.metadataFilter = metadataFilter
        self.logger = logger
    }

    private var hasFilters: Bool { sandboxId != nil || !metadataFilter.isEmpty }

    /// The ids to show, sorted: those listed, minus the ones whose meta.json (when read already)
    /// says expired. With filters, every meta.json must be read (once per version) to apply them.
    public func backupIDs() throws -> [String] {
        if hasFilters { return try backups().map(\.id).sorted() }
        let listed = try currentVersions()
        let now = catalog.now()
        return state.withLock { state in
            listed.filter { id, etag in
                guard let read = state.metas[id], read.etag == etag else { return true }
                return read.meta.map { !$0.isExpired(at: now) } ?? false
            }.keys.sorted()
        }
    }

    /// The live backups that match the filters, newest first; reads each meta.json not read before.
    public func backups() throws -> [BackupMetadata] {
        let listed = try currentVersions()
        try readMissing(listed)
        let now = catalog.now()
        let metas = state.withLock { state in
            listed.compactMap { id, etag in state.metas[id].flatMap { $0.etag == etag ? $0.meta : nil } }
        }
        return metas.filter { !$0.isExpired(at: now) && matches($0) }.sorted {
            ($0.createdAt, $0.id) > ($1.createdAt, $1.id)
        }
    }

    /// The meta.json of backup `id` when it is to be shown (listed, live, matching the filters);
    /// nil otherwise. Read once per version.
    public func liveMetadata(_ id: String) throws -> BackupMetadata? {
        guard let etag = try currentVersions()[id] else { return nil }
        try readMissing([id: etag])
        guard let meta = state.withLock({ $0.metas[id]?.meta }), !meta.isExpired(at: catalog.now()), matches(meta)
        else { return nil }
        return meta
    }

    private func matches(_ meta: BackupMetadata) -> Bool {
        if let sandboxId, meta.sandboxId != sandboxId { return false }
        return metadataFilter.allSatisfy { key, value in meta.metadata?[key] == value }
    }

    /// The ids and meta.json ETags of the last listing, listed again once it is older than the interval.
    private func currentVersions() throws -> [String: String] {
        if let fresh = freshVersions() { return fresh }
        refreshing.lock()
        defer { refreshing.unlock() }
        if let fresh = freshVersions() { return fresh }
        let listed: [String: String]
        do {
            listed = try catalog.metaVersions()
        } catch {
            return try lastVersions(after: error)
        }
        let now = catalog.now()
        state.withLock { state in
            state.versions = listed
            state.listedAt = now
            // A changed ETag means meta.json may say something else now; a deleted backup goes.
            state.metas = state.metas.filter { id, read in listed[id] == read.etag }
        }
        return listed
    }

    /// A listing that failed (the store is down, a credential expired) keeps the last listing for
    /// one more interval rather than emptying the mount under its users; the failure is logged.
    /// With no listing yet there is nothing to keep, and the failure is the caller's.
    private func lastVersions(after error: any Error) throws -> [String: String] {
        let now = catalog.now()
        let kept = state.withLock { state -> [String: String]? in
            guard state.listedAt != nil else { return nil }
            state.listedAt = now
            return state.versions
        }
        guard let kept else { throw error }
        logger.warning(
            "listing the store failed; the last listing (\(kept.count) backups) stays until the next refresh: \(error)")
        return kept
    }

    private func freshVersions() -> [String: String]? {
        let now = catalog.now()
        return state.withLock { state in
            guard let listedAt = state.listedAt, now.timeIntervalSince(listedAt) < refreshInterval else { return nil }
            return state.versions
        }
    }

    /// Reads, in parallel, the meta.json of each of `wanted` (id → ETag) not read at that ETag.
    private func readMissing(_ wanted: [String: String]) throws {
        let missing = state.withLock { state in
            wanted.filter { id, etag in state.metas[id]?.etag != etag }.map { (id: $0.key, etag: $0.value) }
        }
        guard !missing.isEmpty else { return }
        let store = catalog.store
        let results = try ParallelWork.map(count: missing.count, width: catalog.parallelReads) { index in
            Result { try BackupCatalog.readMeta(store: store, id: missing[index].id) }
        }
        var failure: (any Error)?
        state.withLock { state in
            for (wanted, result) in zip(missing, results) {
                switch result {
                case .success(let meta?):
                    state.metas[wanted.id] = ReadMeta(etag: wanted.etag, meta: meta)
                case .success(nil):
                    break  // deleted since the listing; gone at the next one
                case .failure(let error as BackupError):
                    // A broken meta.json hides its backup (as `list` reports it), not the whole store.
                    logger.warning("hiding backup \(wanted.id): \(error.message)")
                    state.metas[wanted.id] = ReadMeta(etag: wanted.etag, meta: nil)
                case .failure(let error):
                    failure = failure ?? error
                }
            }
        }
        if let failure { throw BackupError.wrapping(failure, as: .invalidConfig) }
    }
}

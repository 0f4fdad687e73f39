import Foundation

/// The library's entry point: the spec's `createBackup` and `restoreBackup`, the catalog, verify
/// and mounts, as `async` calls on the store a `StoreSelection` and the environment select.
///
/// The store is resolved exactly as the `sqbackup` command resolves its flags and environment
/// (`SQBACKUP_STORE`, `BACKUP_BUCKET_NAME` and the `R2_*` variables, the `AWS_*` ones, else the
/// local store in `SQBACKUP_STORE_DIR`), once per call. Long work (create, restore, verify) runs on
/// a thread of its own; cancelling the calling task stops a create or a restore cleanly with
/// OPERATION_INTERRUPTED. Every error thrown is a ``BackupError``.
public struct BackupClient: Sendable {
    /// Where the store, the sandbox id and the state directory (directory locks) are read from.
    public let environment: [String: String]
    /// The store selection image references other than backup ids are resolved with (URL trust);
    /// nil for a client of an already opened catalog.
    let store: StoreSelection?
    private let openCatalog: @Sendable () throws -> BackupCatalog

    /// A client of the store `store` selects on top of `environment`: with the default selection,
    /// the store the environment names, as the CLI without store flags. Relative CA bundle paths
    /// (`store.caBundle`, `AWS_CA_BUNDLE`, …) are taken from the current directory now, so that
    /// they name the same file for every call and for a mount daemon started on the client's behalf.
    public init(
        store: StoreSelection = StoreSelection(), environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        let environment = StoreSelection.absolutizingCABundles(in: environment)
        let store = store.absolute()
        self.environment = environment
        self.store = store
        openCatalog = { try BackupCatalog.open(store, environment: environment) }
    }

    /// A client of an already opened catalog (a store made by other means).
    public init(catalog: BackupCatalog, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
        store = nil
        openCatalog = { catalog }
    }

    /// The catalog this client works on; INVALID_BACKUP_CONFIG when the store settings are wrong.
    /// Its synchronous calls are what the `async` ones run.
    public func catalog() throws -> BackupCatalog { try openCatalog() }

    // MARK: The catalog

    /// The backups in the store, newest first: those of `sandboxId` only, when given, and those
    /// carrying every `metadata` key with the given value. Expired backups are listed until pruned;
    /// a backup whose meta.json cannot be read is left out (`BackupCatalog.list` reports those).
    public func listBackups(sandboxId: String? = nil, metadata: [String: String] = [:]) async throws
        -> [DirectoryBackup]
    {
        let openCatalog = self.openCatalog
        return try await BlockingCall.run(fallback: .invalidConfig) {
            try openCatalog().list(sandboxId: sandboxId, metadata: metadata).backups.map(\.directoryBackup)
        }
    }

    /// Backup `id`; BACKUP_NOT_FOUND when it does not exist (an expired one is still shown).
    public func backup(id: String) async throws -> DirectoryBackup {
        let openCatalog = self.openCatalog
        return try await BlockingCall.run(fallback: .invalidConfig) { try openCatalog().show(id).directoryBackup }
    }

    /// Deletes backup `id` (its meta.json first, so a half-deleted backup is no longer listed);
    /// BACKUP_NOT_FOUND when it does not exist.
    public func deleteBackup(_ id: String) async throws {
        let openCatalog = self.openCatalog
        try await BlockingCall.run(fallback: .invalidConfig) { try openCatalog().delete([id]) }
    }

    /// Deletes expired backups, and uploads and leftovers of killed creates older than
    /// `uploadsOlderThan`; with `dryRun`, only reports what it would delete.
    public func prune(dryRun: Bool = false, uploadsOlderThan: Duration = .seconds(24 * 3600)) async throws
        -> PruneReport
    {
        let openCatalog = self.openCatalog
        let age = uploadsOlderThan / .seconds(1)
        return try await BlockingCall.run(fallback: .invalidConfig) {
            try openCatalog().prune(dryRun: dryRun, uploadsOlderThan: age)
        }
    }

    /// `path` made absolute against the current directory, as the CLI makes its arguments.
    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL.path
    }
}

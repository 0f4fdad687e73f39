extension BackupClient {
    /// The backups in the store, newest first, as `listBackups` filters them, with their full
    /// records (meta.json) and the errors of the records that could not be read (left out of
    /// `backups`, reported in `problems`).
    public func backupList(sandboxId: String? = nil, metadata: [String: String] = [:]) async throws -> BackupList {
        let client = self
        return try await BlockingCall.run(fallback: .invalidConfig) {
            try client.catalog().list(sandboxId: sandboxId, metadata: metadata)
        }
    }

    /// Backup `id`'s full record (meta.json: hashes, compression, digest table); BACKUP_NOT_FOUND
    /// when it does not exist (an expired one is still shown).
    public func backupMetadata(id: String) async throws -> BackupMetadata {
        let client = self
        return try await BlockingCall.run(fallback: .invalidConfig) { try client.catalog().show(id) }
    }

    /// Deletes every backup of `ids`, or none: all are checked first, so one unknown id
    /// (BACKUP_NOT_FOUND) deletes nothing.
    public func deleteBackups(_ ids: [String]) async throws {
        let client = self
        try await BlockingCall.run(fallback: .invalidConfig) { try client.catalog().delete(ids) }
    }
}

import Storage

extension BackupCatalog {
    /// The ids of the complete backups, each with the ETag of its meta.json: one store listing,
    /// no object read. An ETag changes whenever meta.json may have changed.
    func metaVersions() throws -> [String: String] {
        do {
            var versions: [String: String] = [:]
            for object in try catalogObjects().all {
                guard let id = Self.backupID(of: object.key), object.key == BackupID.metaKey(id) else { continue }
                versions[id] = object.etag
            }
            return versions
        } catch {
            throw BackupError.wrapping(error, as: .invalidConfig)
        }
    }
}

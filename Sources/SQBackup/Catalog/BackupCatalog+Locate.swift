extension BackupCatalog {
    /// Backup `id`'s image for a mount, with the digests its reads are checked against (with
    /// `verify`, when the backup has them) or why its reads are unverified; refuses unknown
    /// (BACKUP_NOT_FOUND) and expired (BACKUP_EXPIRED) backups.
    public func locate(_ id: String, verify: Bool) throws -> LocatedImage {
        let opened = try open(id, verify: verify)
        let reason: String? =
            !verify
            ? "verification is off"
            : opened.digests == nil
                ? "backup \(id) was stored without block digests (by an older version or another tool)" : nil
        return LocatedImage(source: opened.source, blockDigests: opened.digests, unverifiedReason: reason)
    }
}

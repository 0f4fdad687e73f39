import SquashReader

/// What a store browser shows and opens. Implemented above this layer (by the facade, over a
/// backup catalog); the browser only asks, and each call may refresh what it lists.
public protocol BrowserCatalog: Sendable {
    /// The names under by-id/: cheap enough to call on every directory listing.
    func backupIDs() throws -> [String]
    /// The backups with their dates and sandboxes, newest first, for by-date/, by-sandbox/ and latest.
    func datedBackups() throws -> [BrowsedBackup]
    /// Whether by-id/`id` exists: listed, not expired, and matching the browser's filters.
    func isVisible(_ id: String) throws -> Bool
    /// Opens the image of backup `id`; throws `BackupUnavailable` when it is gone or expired.
    func openImage(_ id: String) throws -> SquashImage
}

/// meta.json's anchor for `backups/<id>/blocks.sha256`: the SHA-256 of that object and how many
/// entries it holds. Checking the table against this before using it makes the table as
/// trustworthy as meta.json itself.
public struct BlockDigestsRecord: Codable, Sendable, Equatable {
    /// SHA-256 of the whole stored table, 64 lowercase hex digits.
    public var sha256: String
    /// Entries in the table: every data and fragment block, the superblock, the metadata region.
    public var count: Int

    public init(sha256: String, count: Int) {
        self.sha256 = sha256
        self.count = count
    }
}

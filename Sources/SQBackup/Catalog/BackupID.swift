import Foundation

/// Backup ids: lowercase UUIDs, which also keeps them safe as object key components.
public enum BackupID {
    /// A fresh random id.
    public static func generate() -> String { UUID().uuidString.lowercased() }

    /// Whether `text` is a lowercase UUID (8-4-4-4-12 hex digits).
    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                guard
                    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                        || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                else { return false }
            }
        }
        return true
    }

    /// Whether `text` looks like a UUID in any letter case (a reference meant as an id).
    static func looksLikeUUID(_ text: String) -> Bool { isValid(text.lowercased()) }

    /// Throws INVALID_BACKUP_CONFIG unless `text` is a valid id: a malformed id is a caller's mistake,
    /// not a missing backup, and must never reach a key.
    static func validate(_ text: String) throws {
        guard isValid(text) else {
            let hint = looksLikeUUID(text) ? " (use lowercase: \(text.lowercased()))" : ""
            throw BackupError(
                .invalidConfig,
                "invalid backup id \"\(text.prefix(80))\": backup ids are lowercase UUIDs such as "
                    + "0f8fad5b-d9cb-469f-a165-70867728950e\(hint)")
        }
    }

    static func prefix(_ id: String) -> String { "backups/\(id)/" }
    static func dataKey(_ id: String) -> String { "backups/\(id)/data.sqsh" }
    static func metaKey(_ id: String) -> String { "backups/\(id)/meta.json" }
    /// The block digest table (`BlockDigestTable`'s stored form), written before meta.json.
    static func digestsKey(_ id: String) -> String { "backups/\(id)/blocks.sha256" }
}

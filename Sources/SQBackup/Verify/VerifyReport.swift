/// What a verify of one backup found: the spec's "test restores periodically", without writing
/// a file. `ok` is false when any checked byte differs from what was stored at create.
public struct VerifyReport: Codable, Sendable, Equatable {
    /// How the whole-image hash recorded in meta.json compared.
    public enum ImageHash: String, Codable, Sendable {
        case ok
        case mismatch
        /// meta.json records none (the vendor's SDK).
        case absent
    }

    /// The backup verified.
    public var id: String
    /// No damage found: the table (when there is one) is intact, every block and the image hash match.
    public var ok: Bool
    /// Whether the backup has a block digest table; without one only the image hash (if any) is checked.
    public var verified: Bool
    /// Bytes of the image read and checked.
    public var bytesChecked: UInt64
    /// Whether the digest table matched its anchor in meta.json; nil when the backup has none.
    public var tableOk: Bool?
    /// How the whole image compared with meta.json's hash.
    public var imageHash: ImageHash
    /// The image hash was decided by the block checks instead of being computed again: the digest
    /// table covers every byte of the image (the rest is zero padding, also checked), so all
    /// entries matching means the image is the one create hashed, and any damage means it is not.
    public var imageHashFromBlocks: Bool
    /// Stretches of the image whose bytes differ from their recorded digest, in image order.
    public var damaged: [DamagedRegion]
    /// Why the table or the metadata could not be used, in words (empty when nothing went wrong).
    public var notes: [String]

    /// A report; `ok` follows from the rest.
    public init(
        id: String, verified: Bool, bytesChecked: UInt64, tableOk: Bool?, imageHash: ImageHash,
        imageHashFromBlocks: Bool = false, damaged: [DamagedRegion], notes: [String] = []
    ) {
        self.id = id
        self.verified = verified
        self.bytesChecked = bytesChecked
        self.tableOk = tableOk
        self.imageHash = imageHash
        self.imageHashFromBlocks = imageHashFromBlocks
        self.damaged = damaged
        self.notes = notes
        self.ok = tableOk != false && imageHash != .mismatch && damaged.isEmpty
    }

    /// Whether the metadata region (the tree: names, inodes, block lists) is among the damage.
    public var metadataDamaged: Bool { damaged.contains { $0.kind == .metadata || $0.kind == .superblock } }

    /// BACKUP_DAMAGED saying what is wrong, when the backup is not `ok`; nil when it is.
    public var damageError: BackupError? {
        guard !ok else { return nil }
        var problems: [String] = []
        if !damaged.isEmpty {
            let kinds = Set(damaged.map(\.kind))
            let what = kinds.contains(.metadata) || kinds.contains(.superblock) ? " (the metadata among them)" : ""
            problems.append("\(damaged.count) damaged block\(damaged.count == 1 ? "" : "s")\(what)")
        }
        if imageHash == .mismatch { problems.append("the image differs from the hash meta.json records") }
        if tableOk == false {
            let rest = problems.isEmpty ? "" : "; " + problems.joined(separator: "; ")
            return BackupError(.damaged, "the digest table of backup \(id) is damaged" + rest)
        }
        return BackupError(.damaged, "backup \(id) is damaged: " + problems.joined(separator: "; "))
    }
}

import SquashWriter

/// What a create produced: the backup (when stored) or the image file (with `--output`), and totals.
public struct CreateReport: Sendable {
    /// The stored backup; nil when only an image file was built.
    public var backup: BackupMetadata?
    /// The image file written instead of a backup.
    public var imagePath: String?
    public var imageSize: UInt64
    /// SHA-256 of the whole image; nil when it went up in parts (then `compositeSha256`).
    public var sha256: String?
    public var compositeSha256: CompositeSHA256?
    /// Regular files (distinct inodes) and their total size.
    public var files: Int
    public var sourceBytes: UInt64
    public var seconds: Double
    public var warnings: [CreateWarning]

    /// Image size over source size (0 for an empty tree).
    public var ratio: Double { sourceBytes == 0 ? 0 : Double(imageSize) / Double(sourceBytes) }
}

import ImageDigests

/// One stretch of an image whose stored bytes no longer match their digest, and what it holds.
public struct DamagedRegion: Codable, Sendable, Equatable {
    /// What the stretch is, as named in reports.
    public enum Kind: String, Codable, Sendable {
        case data
        case fragment
        case superblock
        case metadata

        init(_ kind: BlockDigestTable.Kind) {
            switch kind {
            case .dataBlock: self = .data
            case .fragmentBlock: self = .fragment
            case .superblock: self = .superblock
            case .metadata: self = .metadata
            }
        }
    }

    public var offset: UInt64
    public var length: UInt32
    public var kind: Kind
    /// Paths (relative to the backed-up directory) of the files whose data lives there; empty for
    /// the superblock and metadata, and when the metadata itself is damaged and was not decoded.
    public var files: [String]

    public init(offset: UInt64, length: UInt32, kind: Kind, files: [String] = []) {
        self.offset = offset
        self.length = length
        self.kind = kind
        self.files = files
    }
}

import CSquashfs

/// The compression algorithm of an image's data and metadata blocks.
public enum CompressorKind: String, Sendable, CaseIterable, Codable {
    case zstd, lz4, gzip, xz

    /// The level used when `BuildOptions.level` is nil: fast for zstd, the squashfs tools' defaults otherwise.
    public var defaultLevel: Int {
        switch self {
        case .zstd: return 3
        case .lz4: return 1
        case .gzip: return 9
        case .xz: return 6
        }
    }

    /// Valid levels. LZ4 has two: 1 (fast) and 2 (high compression, "HC").
    public var levelRange: ClosedRange<Int> {
        switch self {
        case .zstd: return 1...22
        case .lz4: return 1...2
        case .gzip: return 1...9
        case .xz: return 0...9
        }
    }

    var libraryID: SQFS_COMPRESSOR {
        switch self {
        case .zstd: return SQFS_COMP_ZSTD
        case .lz4: return SQFS_COMP_LZ4
        case .gzip: return SQFS_COMP_GZIP
        case .xz: return SQFS_COMP_XZ
        }
    }
}

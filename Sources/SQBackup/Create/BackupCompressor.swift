import SquashWriter

/// The compression of a backup's image, as a create asks for it (the level is `BackupOptions.level`).
public enum BackupCompressor: String, Sendable, CaseIterable {
    case zstd, lz4, gzip, xz

    /// The image writer's name for it.
    var kind: CompressorKind {
        switch self {
        case .zstd: return .zstd
        case .lz4: return .lz4
        case .gzip: return .gzip
        case .xz: return .xz
        }
    }
}

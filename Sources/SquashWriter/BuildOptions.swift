import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// How `ImageBuilder` turns a directory into an image.
public struct BuildOptions: Sendable {
    /// Compression for data and metadata blocks.
    public var compressor: CompressorKind = .zstd
    /// Compression level; nil means `compressor.defaultLevel`.
    public var level: Int?
    /// Data block size: a power of two from 4 KiB to 1 MiB.
    public var blockSize: Int = 128 * 1024
    /// Compression worker threads. The output does not depend on it.
    public var threads: Int = BuildOptions.onlineCores
    /// Paths to leave out, relative to the root; an excluded directory takes its subtree with it.
    public var excludes: [GlobPattern] = []
    /// Warn about and leave out files that can't be read, instead of failing.
    public var skipUnreadable = false
    /// Don't descend into other filesystems mounted inside the tree; their mount points are stored
    /// as empty directories (with a warning). On by default so that a backup never swallows
    /// `/proc`-like or network mounts, or a mounted backup of itself.
    public var oneFileSystem = true
    /// Write the NFS export table (inode number → inode), which lets the kernel serve lookups by inode.
    public var exportTable = true
    /// Record the SHA-256 of every stored block and of the metadata (`BuildResult.blockDigests`),
    /// so that readers can check what they fetch; costs one SHA-256 pass over the image's bytes.
    public var blockDigests = true
    /// Called from the building thread with running totals, at most every few files or MiB.
    public var progress: (@Sendable (BuildProgress) -> Void)?
    /// Called from the building thread for each warning (they are also logged and returned in the result).
    public var onWarning: (@Sendable (BuildWarning) -> Void)?
    /// Polled between files; returning true stops the build with `BuildError.cancelled`.
    public var shouldCancel: (@Sendable () -> Bool)?
    /// Receives warnings (level warning) and a summary (level debug).
    public var logger = Logger(label: "sqbackup.writer")

    public init() {}

    /// Convenience: parses `excludes` as glob strings.
    public init(compressor: CompressorKind = .zstd, level: Int? = nil, excludes: [String]) throws {
        self.compressor = compressor
        self.level = level
        self.excludes = try excludes.map { try GlobPattern($0) }
    }

    /// The number of online processors (at least 1).
    public static var onlineCores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// The level actually used.
    public var effectiveLevel: Int { level ?? compressor.defaultLevel }

    func validate() throws {
        guard blockSize >= 4096, blockSize <= 1 << 20, blockSize & (blockSize - 1) == 0 else {
            throw BuildError.invalidOptions("block size \(blockSize) must be a power of two from 4 KiB to 1 MiB")
        }
        guard compressor.levelRange.contains(effectiveLevel) else {
            throw BuildError.invalidOptions(
                "\(compressor.rawValue) level \(effectiveLevel) is outside \(compressor.levelRange)")
        }
        guard threads >= 1, threads <= 1024 else {
            throw BuildError.invalidOptions("threads must be between 1 and 1024, not \(threads)")
        }
    }
}

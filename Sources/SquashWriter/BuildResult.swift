import ImageDigests

/// What a finished build produced.
public struct BuildResult: Sendable {
    /// Size of the image in bytes (a multiple of 4096).
    public var imageSize: UInt64
    /// The final image's digest, as returned by the sink.
    public var digest: ImageDigest
    /// SHA-256 of the whole image as 64 lowercase hex digits; nil when the sink gave a composite digest.
    public var sha256Hex: String? { digest.sha256Hex }

    /// Entries by type; `files` counts distinct inodes, `hardLinks` the extra names of those inodes.
    public var files = 0
    public var directories = 0
    public var symlinks = 0
    public var hardLinks = 0
    public var charDevices = 0
    public var blockDevices = 0
    public var fifos = 0
    public var sockets = 0
    /// Inodes in the image.
    public var inodes = 0

    /// Total size of the regular files stored.
    public var fileBytes: UInt64 = 0
    /// File data read from disk (dedup candidates may be read twice).
    public var bytesRead: UInt64 = 0
    /// Files whose data duplicated an earlier file's and was stored once, and the bytes that saved.
    public var dedupFiles = 0
    public var dedupBytes: UInt64 = 0
    /// The superblock's modification time: the newest mtime in the tree (0 for an empty tree).
    public var modificationTime: UInt32 = 0
    /// The digest of every stored block, the superblock and the metadata tables; nil when
    /// `BuildOptions.blockDigests` was off.
    public var blockDigests: BlockDigestTable?
    /// Blocks the storing thread hashed itself because no compression worker had (normally 0).
    public var blocksHashedWhereStored = 0
    /// Everything the build worked around.
    public var warnings: [BuildWarning] = []
    /// Where the time went.
    public var timings = BuildTimings()
}

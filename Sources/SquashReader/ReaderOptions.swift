import ImageDigests

/// Tuning of the data path of an opened image.
public struct ReaderOptions: Sendable {
    /// Decompressed blocks kept in memory, shared by all threads.
    public var cacheBytes = 256 << 20
    /// Decoded metadata kept in memory: decompressed inode and directory table blocks, inodes and
    /// directory listings. The tree is decoded from the compressed tables on demand, so this
    /// bounds memory however many entries the image has.
    public var metadataCacheBytes = 32 << 20
    /// Adjacent blocks merge into one range request up to this size.
    public var maxRequestBytes = 8 << 20
    /// Readahead for sequentially read files starts at this many bytes past the read...
    public var readaheadInitial = 1 << 20
    /// ...and grows with the bytes read sequentially up to this (and to each streaming reader's
    /// share of half of `cacheBytes`); 0 disables readahead.
    public var readaheadMaximum = 128 << 20
    /// Compressed blocks kept on disk across mounts; nil for none.
    public var diskCache: DiskBlockCache?
    /// How much of the image head to read at open (superblock, compressor options).
    public var headBytes = 128 << 10
    /// The digests recorded when the image was built. With them, the superblock and metadata are
    /// checked before they are decoded, and every fetched block before it is cached or served;
    /// nil reads the image unverified.
    public var blockDigests: BlockDigestTable?
    /// Told of each entry hidden for an unsafe name ("/dir/..: name is '..'") when its directory
    /// is first read: directories are decoded on demand, so they are not all known at open.
    public var rejectedEntryHandler: (@Sendable (String) -> Void)?

    public init() {}
}

/// Tuning of the data path of an opened image.
public struct ReaderOptions: Sendable {
    /// Decompressed blocks kept in memory, shared by all threads.
    public var cacheBytes = 256 << 20
    /// Adjacent blocks merge into one range request up to this size.
    public var maxRequestBytes = 8 << 20
    /// How much of the image head to read at open (superblock, compressor options).
    public var headBytes = 128 << 10

    public init() {}
}

/// Counters of one `DiskBlockCache` instance (this process's view of a shared directory).
public struct DiskBlockCacheStatistics: Sendable, Codable, Equatable {
    /// `get` calls answered from disk.
    public var hits: Int
    /// `get` calls that returned nil, corrupt entries included.
    public var misses: Int
    /// Entries that failed verification (bad header, wrong size, checksum mismatch) and were deleted.
    public var corruptDiscarded: Int
    /// Entries written by `put`.
    public var entriesWritten: Int
    /// Bytes (headers included) written by `put`.
    public var bytesWritten: Int
    /// Bytes the whole cache directory holds, all namespaces and processes, as last counted.
    public var bytesStored: Int
    /// Entries this instance deleted to respect the capacity or the free-space floor.
    public var evictions: Int
    /// `put` calls skipped because the entry could not fit or the filesystem was too full.
    public var skippedWrites: Int

    public init(
        hits: Int = 0, misses: Int = 0, corruptDiscarded: Int = 0, entriesWritten: Int = 0, bytesWritten: Int = 0,
        bytesStored: Int = 0, evictions: Int = 0, skippedWrites: Int = 0
    ) {
        self.hits = hits
        self.misses = misses
        self.corruptDiscarded = corruptDiscarded
        self.entriesWritten = entriesWritten
        self.bytesWritten = bytesWritten
        self.bytesStored = bytesStored
        self.evictions = evictions
        self.skippedWrites = skippedWrites
    }
}

/// A decompressed data or fragment block. A block stored uncompressed is a slice of the range
/// read that brought it (no copy); the cache counts its own length.
typealias Block = ArraySlice<UInt8>

/// Where the fetcher looks for a block before it asks the network, and keeps it after: blocks
/// are keyed by where they lie in the image. The memory cache holds them decompressed and the
/// disk cache as stored; which form a layer keeps is its own business.
protocol BlockCache: Sendable {
    /// The cached bytes of `block`, or nil; a hit counts as a use.
    func cached(_ block: BlockReference) -> Block?

    /// Whether `block` is cached, without counting a use or checking its bytes.
    func contains(_ block: BlockReference) -> Bool

    /// Keeps `bytes` as `block`'s. `slicesLargerBuffer`: the bytes are a slice of a larger
    /// buffer (a range read's body), which a cache that holds them in memory keeps alive.
    func store(_ bytes: Block, for block: BlockReference, slicesLargerBuffer: Bool)

    /// Keeps a run of blocks that were fetched together.
    func store(run: [(block: BlockReference, bytes: Block)], slicesLargerBuffer: Bool)
}

extension BlockCache {
    func store(run: [(block: BlockReference, bytes: Block)], slicesLargerBuffer: Bool) {
        for entry in run { store(entry.bytes, for: entry.block, slicesLargerBuffer: slicesLargerBuffer) }
    }
}

#if canImport(Glibc)
    import Glibc
#endif

// The disk cache behind the fetcher's seam: blocks as stored in the image, keyed by their
// offset and stored size.
extension DiskBlockCache: BlockCache {
    func cached(_ block: BlockReference) -> Block? {
        get(offset: block.offset, length: block.storedSize)?[...]
    }

    /// Presence only: a damaged entry is caught, deleted and refetched when it is read.
    func contains(_ block: BlockReference) -> Bool {
        access(path(offset: block.offset, length: block.storedSize), F_OK) == 0
    }

    func store(_ bytes: Block, for block: BlockReference, slicesLargerBuffer: Bool) {
        put(blocks: [(block.offset, bytes)])
    }

    /// One pack for the run (see `put(blocks:)`).
    func store(run: [(block: BlockReference, bytes: Block)], slicesLargerBuffer: Bool) {
        put(blocks: run.map { ($0.block.offset, $0.bytes) })
    }
}

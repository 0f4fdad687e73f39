import Synchronization

/// Collects digest entries while an image is written, from whichever thread writes a block.
public final class BlockDigestRecorder: Sendable {
    private let entries = Mutex<[BlockDigestTable.Entry]>([])

    public init() {}

    /// Records the digest of `bytes`, stored at `offset`.
    public func record(_ kind: BlockDigestTable.Kind, offset: UInt64, bytes: UnsafeRawBufferPointer) {
        let entry = BlockDigestTable.Entry(offset: offset, kind: kind, bytes: bytes)
        entries.withLock { $0.append(entry) }
    }

    /// Records an entry whose digest was computed elsewhere (e.g. while streaming a region).
    public func record(_ entry: BlockDigestTable.Entry) {
        entries.withLock { $0.append(entry) }
    }

    /// Forgets entries at or past `offset` (the writer truncated the image back).
    public func discard(from offset: UInt64) {
        entries.withLock { $0.removeAll { $0.offset >= offset } }
    }

    /// The table of everything recorded.
    public func table() throws(BlockDigestTableError) -> BlockDigestTable {
        try BlockDigestTable(entries: entries.withLock { $0 })
    }
}

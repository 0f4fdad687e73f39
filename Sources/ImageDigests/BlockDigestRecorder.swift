import Dispatch
import Synchronization

/// Collects digest entries while an image is written, from whichever thread writes a block.
///
/// Blocks are hashed on a queue of their own: the thread that stores blocks is the builder's
/// bottleneck (it reads files and feeds the compressors), and while it runs the other cores are
/// not all busy, so a copy there and a hash elsewhere costs the build less than a hash in line.
public final class BlockDigestRecorder: Sendable {
    private let entries = Mutex<[BlockDigestTable.Entry]>([])
    private let hashing = DispatchQueue(label: "sqbackup.block-digests")

    public init() {}

    /// Records the digest of `bytes`, stored at `offset`; the bytes are copied, hashed later.
    public func record(_ kind: BlockDigestTable.Kind, offset: UInt64, bytes: UnsafeRawBufferPointer) {
        let copy = [UInt8](bytes)
        hashing.async { [self] in
            let entry = copy.withUnsafeBytes { BlockDigestTable.Entry(offset: offset, kind: kind, bytes: $0) }
            entries.withLock { $0.append(entry) }
        }
    }

    /// Records an entry whose digest was computed elsewhere (e.g. while streaming a region).
    public func record(_ entry: BlockDigestTable.Entry) {
        hashing.async { [self] in entries.withLock { $0.append(entry) } }
    }

    /// The table of everything recorded, once every pending block is hashed.
    public func table() throws(BlockDigestTableError) -> BlockDigestTable {
        hashing.sync {}
        return try BlockDigestTable(entries: entries.withLock { $0 })
    }
}

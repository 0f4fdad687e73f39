import Crypto
import Synchronization

/// Collects digest entries while an image is written.
///
/// The thread that stores blocks is the builder's bottleneck (it reads files and feeds the
/// compressors), so blocks are hashed where they are compressed: each compression worker hashes
/// the block it produced (`compressed`) and parks the digest under the address of the buffer the
/// block writer will be handed; the storing thread then only takes it (`record`). A block no worker
/// reported (or one whose length differs) is hashed where it is stored, so a table is always right.
public final class BlockDigestRecorder: Sendable {
    private struct Parked {
        var length: Int
        var digest: [UInt8]
    }

    private let parked = Mutex<[UInt: Parked]>([:])
    private let entries = Mutex<[BlockDigestTable.Entry]>([])
    private let inLine = Atomic<Int>(0)

    public init() {}

    /// Called on a compression worker with a block as it will be stored; `buffer` is the address
    /// the block writer will receive it at.
    public func compressed(buffer: UnsafeRawPointer, stored: UnsafeRawBufferPointer) {
        let digest = Array(SHA256.hash(data: stored))
        parked.withLock { $0[UInt(bitPattern: buffer)] = Parked(length: stored.count, digest: digest) }
    }

    /// Records the digest of `bytes`, stored at `offset`: the one a worker parked for this buffer,
    /// or one computed now.
    public func record(_ kind: BlockDigestTable.Kind, offset: UInt64, bytes: UnsafeRawBufferPointer) {
        let taken = bytes.baseAddress.flatMap { address in
            parked.withLock { $0.removeValue(forKey: UInt(bitPattern: address)) }
        }
        let entry: BlockDigestTable.Entry
        if let taken, taken.length == bytes.count {
            entry = BlockDigestTable.Entry(
                offset: offset, length: UInt32(bytes.count), kind: kind, digest: taken.digest)
        } else {
            inLine.add(1, ordering: .relaxed)
            entry = BlockDigestTable.Entry(offset: offset, kind: kind, bytes: bytes)
        }
        entries.withLock { $0.append(entry) }
    }

    /// Records an entry whose digest was computed elsewhere (e.g. while streaming a region).
    public func record(_ entry: BlockDigestTable.Entry) {
        entries.withLock { $0.append(entry) }
    }

    /// How many blocks were hashed where they were stored rather than by a worker.
    public var hashedInLine: Int { inLine.load(ordering: .relaxed) }

    /// The table of everything recorded.
    public func table() throws(BlockDigestTableError) -> BlockDigestTable {
        try BlockDigestTable(entries: entries.withLock { $0 })
    }
}

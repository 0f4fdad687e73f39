import Synchronization

/// A byte-bounded cache of decompressed blocks keyed by their on-disk offset, shared by all
/// reader threads. Sharded so that parallel readers rarely wait on one lock. Least recently used
/// blocks go first, where a block's first read does not count as a use: a streamed block, read
/// once, goes in its arrival order, before the blocks fetched after it.
final class MemoryBlockCache: BlockCache {
    private struct Slot {
        var bytes: Block
        var lastUse: UInt64
        /// A slice of a larger range read: it keeps all of that range's memory alive.
        var shared: Bool
        var uses = 0
    }

    private struct Shard {
        var slots: [UInt64: Slot] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    private final class ShardBox: Sendable {
        let state = Mutex(Shard())
    }

    private let shards: [ShardBox]
    private let capacityPerShard: Int
    /// The bytes of blocks it keeps at most.
    let capacityBytes: Int

    init(capacityBytes: Int, shardCount: Int = 16) {
        self.capacityBytes = capacityBytes
        shards = (0..<shardCount).map { _ in ShardBox() }
        capacityPerShard = max(capacityBytes / shardCount, 1)
    }

    private func shard(_ key: UInt64) -> ShardBox {
        // Block offsets are spread by compressed sizes; mix them so neighbours land apart.
        let mixed = (key ^ (key >> 17)) &* 0x9E37_79B9_7F4A_7C15
        return shards[Int(mixed >> 40) % shards.count]
    }

    func get(_ key: UInt64) -> Block? {
        shard(key).state.withLock { shard in
            guard var slot = shard.slots[key] else { return nil }
            // A first read leaves a block where its arrival put it: a streaming reader takes each
            // block once, in the order readahead brought them, so the blocks it has read go before
            // the ones fetched ahead of it (refreshed on read, they outlived the unread ones, and
            // with a few readers the window thrashed). A block read again is refreshed.
            if slot.uses > 0 {
                shard.clock += 1
                slot.lastUse = shard.clock
            }
            slot.uses += 1
            if slot.shared && slot.uses >= 2 {
                // A block read again may outlive the rest of its range in the cache; give it its
                // own storage so that it does not pin the whole range (a streaming reader, which
                // reads each block once, never pays for this copy).
                slot.bytes = Block(Array(slot.bytes))
                slot.shared = false
            }
            shard.slots[key] = slot
            return slot.bytes
        }
    }

    func contains(_ key: UInt64) -> Bool {
        shard(key).state.withLock { $0.slots[key] != nil }
    }

    /// `shared`: `bytes` is a slice of a larger buffer (see `Slot.shared`).
    func insert(_ key: UInt64, _ bytes: Block, shared: Bool = false) {
        guard bytes.count <= capacityPerShard else { return }
        shard(key).state.withLock { shard in
            shard.clock += 1
            if let old = shard.slots.updateValue(
                Slot(bytes: bytes, lastUse: shard.clock, shared: shared), forKey: key)
            {
                shard.bytes -= old.bytes.count
            }
            shard.bytes += bytes.count
            guard shard.bytes > capacityPerShard else { return }
            // Evict down to 90% in one pass so that eviction cost is amortised over many inserts.
            let target = capacityPerShard * 9 / 10
            for (victim, slot) in shard.slots.sorted(by: { $0.value.lastUse < $1.value.lastUse }) {
                guard shard.bytes > target else { break }
                shard.slots[victim] = nil
                shard.bytes -= slot.bytes.count
            }
        }
    }

    func cached(_ block: BlockReference) -> Block? { get(block.offset) }

    func contains(_ block: BlockReference) -> Bool { contains(block.offset) }

    func store(_ bytes: Block, for block: BlockReference, slicesLargerBuffer: Bool) {
        insert(block.offset, bytes, shared: slicesLargerBuffer)
    }

    var residentBytes: Int { shards.reduce(0) { total, box in total + box.state.withLock { $0.bytes } } }
}

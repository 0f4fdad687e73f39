import Synchronization

/// A cost-bounded cache keyed by a 64-bit key, shared by all threads and sharded so that
/// parallel FUSE workers rarely wait on one lock. It holds decoded metadata (decompressed
/// metadata blocks, directory listings, inodes): whatever falls out is decoded again from the
/// compressed tables, so the capacity bounds memory, not correctness.
///
/// Eviction is generational rather than strict LRU: each shard fills a young generation; when it
/// holds half the shard's capacity it becomes the old one and the previous old one is dropped,
/// and a hit in the old generation moves the entry to the young one. Recently used entries stay,
/// and no insert pays for sorting (a restore of a million files made sorting a tenth of its CPU).
final class BoundedCache<Value: Sendable>: Sendable {
    private struct Generation {
        var slots: [UInt64: (value: Value, cost: Int)] = [:]
        var cost = 0
    }

    private struct Shard {
        var young = Generation()
        var old = Generation()
    }

    private final class ShardBox: Sendable {
        let state = Mutex(Shard())
    }

    private let shards: [ShardBox]
    private let generationCapacity: Int

    init(capacity: Int, shardCount: Int = 8) {
        shards = (0..<shardCount).map { _ in ShardBox() }
        generationCapacity = max(capacity / shardCount / 2, 1)
    }

    private func shard(_ key: UInt64) -> ShardBox {
        let mixed = (key ^ (key >> 29)) &* 0x9E37_79B9_7F4A_7C15
        return shards[Int(mixed >> 40) % shards.count]
    }

    func get(_ key: UInt64) -> Value? {
        shard(key).state.withLock { shard in
            if let slot = shard.young.slots[key] { return slot.value }
            guard let slot = shard.old.slots.removeValue(forKey: key) else { return nil }
            shard.old.cost -= slot.cost
            Self.add(key, slot, to: &shard, capacity: generationCapacity)
            return slot.value
        }
    }

    /// Keeps `value`. One larger than a generation is kept too, alone: a directory of a million
    /// entries must stay decoded while it is listed, or each readdir chunk and lookup would
    /// decode it again.
    func insert(_ key: UInt64, _ value: Value, cost: Int) {
        shard(key).state.withLock { shard in
            if let old = shard.old.slots.removeValue(forKey: key) { shard.old.cost -= old.cost }
            Self.add(key, (value, cost), to: &shard, capacity: generationCapacity)
        }
    }

    private static func add(_ key: UInt64, _ slot: (value: Value, cost: Int), to shard: inout Shard, capacity: Int) {
        if shard.young.cost + slot.cost > capacity && !shard.young.slots.isEmpty {
            shard.old = shard.young
            shard.young = Generation()
        }
        if let replaced = shard.young.slots.updateValue(slot, forKey: key) { shard.young.cost -= replaced.cost }
        shard.young.cost += slot.cost
    }

    /// The value for `key`, made by `make` (outside any lock) and kept when absent.
    func value(_ key: UInt64, make: () throws -> (Value, cost: Int)) rethrows -> Value {
        if let value = get(key) { return value }
        let (value, cost) = try make()
        insert(key, value, cost: cost)
        return value
    }

    /// The summed cost of what is held.
    var totalCost: Int {
        shards.reduce(0) { total, box in total + box.state.withLock { $0.young.cost + $0.old.cost } }
    }
}

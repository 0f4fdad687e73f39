import Synchronization

/// A cost-bounded least-recently-used cache keyed by a 64-bit key, shared by all threads and
/// sharded so that parallel FUSE workers rarely wait on one lock. It holds decoded metadata
/// (decompressed metadata blocks, directory listings, inodes): whatever falls out is decoded
/// again from the compressed tables, so the capacity bounds memory, not correctness.
final class BoundedCache<Value: Sendable>: Sendable {
    private struct Slot {
        var value: Value
        var cost: Int
        var lastUse: UInt64
    }

    private struct Shard {
        var slots: [UInt64: Slot] = [:]
        var cost = 0
        var clock: UInt64 = 0
    }

    private final class ShardBox: Sendable {
        let state = Mutex(Shard())
    }

    private let shards: [ShardBox]
    private let capacityPerShard: Int

    init(capacity: Int, shardCount: Int = 8) {
        shards = (0..<shardCount).map { _ in ShardBox() }
        capacityPerShard = max(capacity / shardCount, 1)
    }

    private func shard(_ key: UInt64) -> ShardBox {
        let mixed = (key ^ (key >> 29)) &* 0x9E37_79B9_7F4A_7C15
        return shards[Int(mixed >> 40) % shards.count]
    }

    func get(_ key: UInt64) -> Value? {
        shard(key).state.withLock { shard in
            guard var slot = shard.slots[key] else { return nil }
            shard.clock += 1
            slot.lastUse = shard.clock
            shard.slots[key] = slot
            return slot.value
        }
    }

    /// Keeps `value`. One larger than a shard's share is kept too, alone in its shard: a directory
    /// of a million entries must stay decoded while it is listed, or each readdir chunk and
    /// lookup would decode it again.
    func insert(_ key: UInt64, _ value: Value, cost: Int) {
        shard(key).state.withLock { shard in
            if cost > capacityPerShard {
                shard.slots = [key: Slot(value: value, cost: cost, lastUse: shard.clock)]
                shard.cost = cost
                return
            }
            shard.clock += 1
            if let old = shard.slots.updateValue(Slot(value: value, cost: cost, lastUse: shard.clock), forKey: key) {
                shard.cost -= old.cost
            }
            shard.cost += cost
            guard shard.cost > capacityPerShard else { return }
            // Down to 75% in one pass, so that the sort is paid once per many inserts.
            let target = capacityPerShard * 3 / 4
            for (victim, slot) in shard.slots.sorted(by: { $0.value.lastUse < $1.value.lastUse }) {
                guard shard.cost > target else { break }
                shard.slots[victim] = nil
                shard.cost -= slot.cost
            }
        }
    }

    /// The value for `key`, made by `make` (outside any lock) and kept when absent.
    func value(_ key: UInt64, make: () throws -> (Value, cost: Int)) rethrows -> Value {
        if let value = get(key) { return value }
        let (value, cost) = try make()
        insert(key, value, cost: cost)
        return value
    }

    /// The summed cost of what is held.
    var totalCost: Int { shards.reduce(0) { total, box in total + box.state.withLock { $0.cost } } }
}

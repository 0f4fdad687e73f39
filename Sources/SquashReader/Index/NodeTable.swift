import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Maps node ids (what FUSE calls inode numbers) to inode references, filled as directories are
/// read: FUSE only ever names nodes that a lookup or readdir handed out, so an id it sends has
/// been seen in a listing (or, for an image opened again, is found by `ImageIndex.discover`). Node ids are squashfs inode numbers with the root's swapped for 1
/// (FUSE's root), so they stay below 2^32 and hard links share one. The slots are zeroed memory
/// from `calloc`, so pages that no listing touched cost nothing: at most 8 bytes per entry.
final class NodeTable: @unchecked Sendable {
    // Each slot is an atomic: reference + 1, or 0 while unknown. Written once (later writes of
    // the same value are no-ops), read by any thread, hence @unchecked Sendable.
    private let slots: UnsafeMutablePointer<Atomic<UInt64>>
    let inodeCount: UInt32
    let rootNumber: UInt32

    init?(inodeCount: UInt32, rootNumber: UInt32, rootReference: UInt64) {
        guard let memory = calloc(Int(inodeCount) + 1, MemoryLayout<UInt64>.stride) else { return nil }
        slots = memory.bindMemory(to: Atomic<UInt64>.self, capacity: Int(inodeCount) + 1)
        self.inodeCount = inodeCount
        self.rootNumber = rootNumber
        _ = record(number: rootNumber, reference: rootReference)
    }

    deinit { free(slots) }

    /// The node id of squashfs inode `number`.
    func id(ofNumber number: UInt32) -> NodeID {
        number == rootNumber ? 1 : (number == 1 ? rootNumber : number)
    }

    func number(of id: NodeID) -> UInt32? {
        guard id >= 1, id <= inodeCount else { return nil }
        return id == 1 ? rootNumber : (id == rootNumber ? 1 : id)
    }

    /// The inode reference of node `id`, when a listing has named it.
    func reference(of id: NodeID) -> UInt64? {
        guard let number = number(of: id) else { return nil }
        let stored = slots[Int(number)].load(ordering: .acquiring)
        return stored == 0 ? nil : stored - 1
    }

    /// Remembers where inode `number` lives; false when the number is out of range or another
    /// entry already gave it a different inode (a damaged or hostile image).
    func record(number: UInt32, reference: UInt64) -> Bool {
        guard number >= 1, number <= inodeCount else { return false }
        let (exchanged, original) = slots[Int(number)].compareExchange(
            expected: 0, desired: reference + 1, ordering: .acquiringAndReleasing)
        return exchanged || original == reference + 1
    }
}

import CFuse3
import Synchronization

/// The browser's inode numbers. Its own directories and symlinks get small numbers (below 2^40);
/// a node inside a backup's image is `slot << 40 | node id`, with one slot per backup id for the
/// life of the mount. Nothing is ever renumbered, so a number the kernel has cached (for as long
/// as it likes: image entries never time out) never comes to mean another node.
final class BrowserInodes: Sendable {
    static let slotShift: fuse_ino_t = 40
    static let nodeMask: fuse_ino_t = (1 << slotShift) - 1

    private struct State {
        var numbers: [BrowserNode: fuse_ino_t] = [.root: fuse_ino_t(FUSE_ROOT_ID)]
        var nodes: [fuse_ino_t: BrowserNode] = [fuse_ino_t(FUSE_ROOT_ID): .root]
        var nextNumber = fuse_ino_t(FUSE_ROOT_ID) + 1
        var slots: [String: fuse_ino_t] = [:]
        /// Backup ids by slot; slot n is at n - 1.
        var ids: [String] = []
    }

    private let state = Mutex(State())

    init() {}

    /// The number of one of the browser's own nodes, assigned on first use.
    func number(of node: BrowserNode) -> fuse_ino_t {
        state.withLock { state in
            if let number = state.numbers[node] { return number }
            let number = state.nextNumber
            state.nextNumber += 1
            state.numbers[node] = number
            state.nodes[number] = node
            return number
        }
    }

    /// The browser's own node numbered `number`, if it is one.
    func node(_ number: fuse_ino_t) -> BrowserNode? {
        state.withLock { $0.nodes[number] }
    }

    /// The slot of backup `id`, assigned on first use (slots start at 1; 0 is the browser's own).
    func slot(of id: String) -> fuse_ino_t {
        state.withLock { state in
            if let slot = state.slots[id] { return slot }
            state.ids.append(id)
            let slot = fuse_ino_t(state.ids.count)
            state.slots[id] = slot
            return slot
        }
    }

    /// The backup id a slot was given to.
    func backupID(ofSlot slot: fuse_ino_t) -> String? {
        state.withLock { state in
            guard slot >= 1, slot <= state.ids.count else { return nil }
            return state.ids[Int(slot) - 1]
        }
    }

    /// The kernel's number of node `node` (a `NodeID`) inside the image of `slot`.
    static func compose(slot: fuse_ino_t, node: fuse_ino_t) -> fuse_ino_t { slot << slotShift | node }

    /// (slot, node inside the image); slot 0 means one of the browser's own nodes.
    static func split(_ number: fuse_ino_t) -> (slot: fuse_ino_t, node: fuse_ino_t) {
        (number >> slotShift, number & nodeMask)
    }
}

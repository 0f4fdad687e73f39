import CFuse3
import Foundation
import Logging
import SquashReader
import Synchronization

/// The images a store browser holds open: at most `maxOpen`, the least recently used one closed
/// when another must open. An image pinned by an open file or directory is never closed; while
/// more than `maxOpen` are pinned, more stay open, and the surplus closes as they are released.
final class OpenImages: Sendable {
    private struct Entry {
        let id: String
        let filesystem: SquashFilesystem
        var pins = 0
        var lastUse: UInt64 = 0
    }

    private struct State {
        var open: [fuse_ino_t: Entry] = [:]
        var clock: UInt64 = 0
        /// One lock per slot, so that two requests for a closed image open it once.
        var gates: [fuse_ino_t: NSLock] = [:]
        /// What the images closed so far had read.
        var closedCounters = ReaderStatistics.Snapshot.zero
    }

    let maxOpen: Int
    private let logger: Logger
    private let opener: @Sendable (String) throws -> SquashImage
    private let state = Mutex(State())

    /// `open` opens the image of a backup id; it runs outside every lock but the slot's own.
    init(maxOpen: Int, logger: Logger, open: @escaping @Sendable (String) throws -> SquashImage) {
        self.maxOpen = max(1, maxOpen)
        self.logger = logger
        self.opener = open
    }

    /// The filesystem of slot `slot` (backup `id`), opened if it is not; with `pin`, it stays open
    /// until `unpin`.
    func filesystem(slot: fuse_ino_t, id: String, pin: Bool = false) throws -> SquashFilesystem {
        if let open = use(slot, pin: pin) { return open }
        let gate = state.withLock { state in
            if let gate = state.gates[slot] { return gate }
            let gate = NSLock()
            state.gates[slot] = gate
            return gate
        }
        gate.lock()
        defer { gate.unlock() }
        if let open = use(slot, pin: pin) { return open }
        let image = try opener(id)
        let filesystem = SquashFilesystem(
            image: image, logger: logger, inodeBase: BrowserInodes.compose(slot: slot, node: 0))
        let closed = state.withLock { state -> [Entry] in
            state.clock += 1
            state.open[slot] = Entry(id: id, filesystem: filesystem, pins: pin ? 1 : 0, lastUse: state.clock)
            return Self.evict(&state, maxOpen: maxOpen, keeping: slot)
        }
        logger.info("opened backup \(id)")
        finish(closed)
        return filesystem
    }

    /// The open filesystem of `slot`, if it is open, without opening it (for an open file's reads).
    func openFilesystem(slot: fuse_ino_t) -> SquashFilesystem? {
        state.withLock { $0.open[slot]?.filesystem }
    }

    /// Ends one pin of `slot` taken by `filesystem(slot:id:pin:)`; closes images beyond `maxOpen`.
    func unpin(slot: fuse_ino_t) {
        let closed = state.withLock { state -> [Entry] in
            guard var entry = state.open[slot], entry.pins > 0 else { return [] }
            entry.pins -= 1
            state.open[slot] = entry
            return Self.evict(&state, maxOpen: maxOpen)
        }
        finish(closed)
    }

    /// The backup ids open now, most recently used first.
    var openIDs: [String] {
        state.withLock { state in
            state.open.values.sorted { $0.lastUse > $1.lastUse }.map(\.id)
        }
    }

    /// What every image opened so far has read.
    var counters: ReaderStatistics.Snapshot {
        state.withLock { state in
            var total = state.closedCounters
            for entry in state.open.values { total.add(entry.filesystem.image.statistics.snapshot) }
            return total
        }
    }

    /// Writes what the open images fetched for the disk cache (at unmount).
    func flushAll() {
        for filesystem in state.withLock({ $0.open.values.map(\.filesystem) }) { filesystem.image.flushDiskCache() }
    }

    private func use(_ slot: fuse_ino_t, pin: Bool) -> SquashFilesystem? {
        state.withLock { state in
            guard var entry = state.open[slot] else { return nil }
            state.clock += 1
            entry.lastUse = state.clock
            if pin { entry.pins += 1 }
            state.open[slot] = entry
            return entry.filesystem
        }
    }

    /// Removes the least recently used unpinned entries while more than `maxOpen` are open, never
    /// `keeping` (an image just opened for the request at hand, which would otherwise open again
    /// at the next one while the others are pinned).
    private static func evict(_ state: inout State, maxOpen: Int, keeping: fuse_ino_t? = nil) -> [Entry] {
        var closed: [Entry] = []
        while state.open.count > maxOpen {
            guard
                let victim = state.open.filter({ $0.value.pins == 0 && $0.key != keeping })
                    .min(by: { $0.value.lastUse < $1.value.lastUse })
            else { break }
            state.open[victim.key] = nil
            state.closedCounters.add(victim.value.filesystem.image.statistics.snapshot)
            closed.append(victim.value)
        }
        return closed
    }

    /// Requests still running on a closed image hold it until they finish; its blocks fetched
    /// for the disk cache are written before it goes.
    private func finish(_ closed: [Entry]) {
        for entry in closed {
            entry.filesystem.image.flushDiskCache()
            logger.info("closed backup \(entry.id) (least recently used)")
        }
    }
}

import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Persists fetched blocks into the disk cache on a thread of its own that runs only when a
/// core is otherwise idle (SCHED_IDLE): hashing and writing a fast sequential reader's blocks
/// must not take CPU from the reads themselves. What waits is bounded; past the cap, blocks are
/// not persisted rather than held in memory.
final class DiskCacheWriter: Sendable {
    private let cache: DiskBlockCache
    private let capBytes: Int
    private typealias Run = [(offset: UInt64, bytes: ArraySlice<UInt8>)]
    private let queue = Mutex<(items: [(run: Run, bytes: Int)], bytes: Int, busy: Bool)>(([], 0, false))
    private let wake = DispatchSemaphore(value: 0)

    /// The queue's cap for a reader whose memory cache holds `memoryBytes`: a quarter of it, at
    /// most 16 MiB. While reads keep the cores busy this idle-priority thread barely runs, so the
    /// queue stays full and every byte of the cap is held (with the heap fragmented around the
    /// bodies it pins); 64 MiB cost ~60 MiB of peak RSS over 16 MiB, four files streamed at once.
    static func capBytes(memoryBytes: Int) -> Int { min(16 << 20, memoryBytes / 4) }

    init(cache: DiskBlockCache, capBytes: Int = 64 << 20) {
        self.cache = cache
        self.capBytes = capBytes
        // The thread holds the writer weakly: when the image goes, deinit wakes it and it ends.
        let worker = Thread { [weak self, wake] in
            // Linux applies a scheduling policy to the calling thread when given pid 0.
            var parameters = sched_param(sched_priority: 0)
            _ = sched_setscheduler(0, Self.schedIdle, &parameters)
            while true {
                wake.wait()
                guard let writer = self else { return }
                writer.drain()
            }
        }
        worker.name = "sqbackup.disk-cache-writer"
        worker.stackSize = 1 << 20
        worker.start()
    }

    deinit { wake.signal() }

    /// Linux's SCHED_IDLE (sched.h declares it only under _GNU_SOURCE, which the Glibc module lacks).
    private static let schedIdle: Int32 = 5

    /// Queues a run of stored blocks (adjacent in the image, written as one pack); returns false
    /// when the queue is full. `pinnedBytes` is what holding them keeps in memory (the whole body
    /// the slices come from), which is what the cap counts.
    @discardableResult
    func enqueue(blocks: [(offset: UInt64, bytes: ArraySlice<UInt8>)], pinnedBytes: Int) -> Bool {
        let size = max(pinnedBytes, blocks.reduce(0) { $0 + $1.bytes.count })
        let accepted = queue.withLock { state in
            guard state.bytes + size <= capBytes else { return false }
            state.items.append((blocks, size))
            state.bytes += size
            return true
        }
        if accepted {
            wake.signal()
        } else {
            cache.noteSkippedWrites(blocks.count)
        }
        return accepted
    }

    /// Waits until everything queued so far is written.
    func flush() {
        while queue.withLock({ !$0.items.isEmpty || $0.busy }) { usleep(2_000) }
    }

    private func drain() {
        while let item = queue.withLock({ state -> (run: Run, bytes: Int)? in
            guard !state.items.isEmpty else { return nil }
            state.busy = true
            return state.items.removeFirst()
        }) {
            cache.put(blocks: item.run)
            queue.withLock { state in
                state.bytes -= item.bytes
                state.busy = false
            }
        }
    }
}

import Foundation
import Synchronization

/// Runs blocking jobs (network fetches) first in, first out on at most `width` threads of its
/// own. Dispatch's pools are sized to the cores and grow slowly when their threads block, so
/// on a 2-core machine jobs queued there waited for each other: 2–3 fetches in flight where
/// a readahead window wanted 8. Threads start when jobs arrive and end when none are left.
public final class BlockingWorkQueue: Sendable {
    public typealias Job = @Sendable () -> Void

    private struct State {
        /// Taken jobs are set to nil at once: a job's captures (a fetched batch) must not live on.
        var jobs = [Job?]()
        var head = 0
        var running = 0
    }

    public let width: Int
    private let state = Mutex(State())

    public init(width: Int) {
        self.width = max(width, 1)
    }

    public func submit(_ job: @escaping Job) {
        let spawn = state.withLock { state -> Bool in
            state.jobs.append(job)
            guard state.running < width else { return false }
            state.running += 1
            return true
        }
        guard spawn else { return }
        let worker = Thread { [self] in
            while let job = next() { job() }
        }
        worker.stackSize = 1 << 20
        worker.start()
    }

    private func next() -> Job? {
        state.withLock { state in
            guard state.head < state.jobs.count else {
                state.jobs.removeAll(keepingCapacity: true)
                state.head = 0
                state.running -= 1
                return nil
            }
            let job = state.jobs[state.head]
            state.jobs[state.head] = nil
            state.head += 1
            if state.head >= 64 && state.head * 2 >= state.jobs.count {
                state.jobs.removeFirst(state.head)
                state.head = 0
            }
            return job
        }
    }
}

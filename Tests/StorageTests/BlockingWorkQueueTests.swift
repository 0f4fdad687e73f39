import Foundation
import Storage
import Synchronization
import Testing

/// The queue that runs blocking fetches: as many at once as its width, whatever the cores.
@Suite("BlockingWorkQueue")
struct BlockingWorkQueueTests {
    @Test("runs `width` blocking jobs at once, never more, and every job in order of submission")
    func widthIsReachedAndKept() throws {
        let queue = BlockingWorkQueue(width: 6)
        let state = Mutex<(running: Int, most: Int, started: [Int])>((0, 0, []))
        let gate = DispatchSemaphore(value: 0)
        let finished = DispatchGroup()
        for index in 0..<18 {
            finished.enter()
            queue.submit {
                state.withLock {
                    $0.running += 1
                    $0.most = max($0.most, $0.running)
                    $0.started.append(index)
                }
                gate.wait()
                state.withLock { $0.running -= 1 }
                finished.leave()
            }
        }
        // Six jobs block at once (more than this machine has cores); the seventh waits for a slot.
        let deadline = Date().addingTimeInterval(10)
        while state.withLock({ $0.running }) < 6 && Date() < deadline { usleep(5_000) }
        usleep(50_000)
        #expect(state.withLock { $0.running } == 6)
        for _ in 0..<18 { gate.signal() }
        #expect(finished.wait(timeout: .now() + 10) == .success)
        let final = state.withLock { $0 }
        #expect(final.most == 6)
        #expect(final.started.count == 18)
        #expect(Array(final.started.prefix(6)).sorted() == Array(0..<6))
    }

    @Test("a job's captures are released once it ran, even while later jobs still wait")
    func finishedJobsAreReleased() throws {
        final class Payload: Sendable {
            static let alive = Atomic<Int>(0)
            init() { Self.alive.add(1, ordering: .relaxed) }
            deinit { Self.alive.subtract(1, ordering: .relaxed) }
        }
        let queue = BlockingWorkQueue(width: 2)
        let start = DispatchSemaphore(value: 0)
        let end = DispatchSemaphore(value: 0)
        let ran = Atomic<Int>(0)
        queue.submit { start.wait() }
        queue.submit { start.wait() }
        for _ in 0..<50 {
            let payload = Payload()
            queue.submit { withExtendedLifetime(payload) { _ = ran.add(1, ordering: .relaxed) } }
        }
        // Two jobs at the end keep the queue from ever emptying while the 50 run.
        queue.submit { end.wait() }
        queue.submit { end.wait() }
        start.signal()
        start.signal()
        let deadline = Date().addingTimeInterval(10)
        while ran.load(ordering: .relaxed) < 50 && Date() < deadline { usleep(1_000) }
        usleep(50_000)
        #expect(ran.load(ordering: .relaxed) == 50)
        #expect(Payload.alive.load(ordering: .relaxed) == 0)
        end.signal()
        end.signal()
    }
}

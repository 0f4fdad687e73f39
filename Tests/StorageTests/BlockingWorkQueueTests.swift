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
}

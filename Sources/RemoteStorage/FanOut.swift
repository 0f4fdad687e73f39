import Foundation
import Storage
import Synchronization

/// Runs blocking work on up to `width` threads of its own: network waits should not
/// occupy Dispatch's CPU-sized pool.
enum FanOut {
    static func map<T: Sendable>(count: Int, width: Int, _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
        if count == 0 { return [] }
        if count == 1 { return [try body(0)] }
        let results = ConcurrentResults<T>(count: count)
        let next = Atomic<Int>(0)
        let done = DispatchGroup()
        for _ in 0..<min(width, count) {
            done.enter()
            let worker = Thread {
                while true {
                    let index = next.add(1, ordering: .relaxed).oldValue
                    if index >= count { break }
                    results.set(index, Result { try body(index) })
                }
                done.leave()
            }
            worker.stackSize = 1 << 20
            worker.start()
        }
        done.wait()
        return try results.values()
    }
}

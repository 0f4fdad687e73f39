import Foundation
import Synchronization

/// Blocking work (store requests) on up to `width` threads of its own, so that network waits
/// don't occupy Dispatch's CPU-sized pool.
public enum ParallelWork {
    public static func map<T: Sendable>(count: Int, width: Int, _ body: @escaping @Sendable (Int) throws -> T) throws
        -> [T]
    {
        if count == 0 { return [] }
        if count == 1 || width <= 1 { return try (0..<count).map(body) }
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

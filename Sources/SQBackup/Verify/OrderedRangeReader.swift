import Foundation
import Storage

/// Reads a whole object in consecutive ranges on several threads of its own and hands the ranges
/// back in order, so a caller can hash the object sequentially while the reads overlap: a
/// download with a small reorder buffer. At most `window` ranges are read ahead of the one the
/// caller is consuming, which bounds memory to about `window × rangeBytes`.
final class OrderedRangeReader<Processed: Sendable>: @unchecked Sendable {
    // Every mutable field is guarded by `condition`. Hence @unchecked Sendable.
    private let condition = NSCondition()
    private var nextToRead = 0
    private var consumed = 0
    private var ready: [Int: ([UInt8], Processed)] = [:]
    private var failure: (any Error)?
    private let ranges: [ByteRange]
    private let window: Int

    private init(ranges: [ByteRange], window: Int) {
        self.ranges = ranges
        self.window = window
    }

    /// Reads every range of `source` on `width` threads, runs `process` on the reading thread (so
    /// per-range work such as hashing runs in parallel too), and calls `consume` on the calling
    /// thread with each range in order. The first error, from a read, `process` or `consume`,
    /// stops the reads and is thrown once every reading thread has stopped. A set `cancellation`
    /// stops them too, between ranges: OPERATION_INTERRUPTED.
    static func run(
        source: any RangeSource, ranges: [ByteRange], width: Int, cancellation: CancellationFlag? = nil,
        process: @escaping @Sendable (ByteRange, [UInt8]) throws -> Processed,
        consume: (ByteRange, [UInt8], Processed) throws -> Void
    ) throws {
        guard !ranges.isEmpty else { return }
        let width = max(1, min(width, ranges.count))
        let reader = OrderedRangeReader<Processed>(ranges: ranges, window: width * 2)
        let finished = DispatchGroup()
        for _ in 0..<width {
            finished.enter()
            let thread = Thread {
                reader.readLoop(source: source, process: process)
                finished.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        defer { finished.wait() }
        do {
            for index in ranges.indices {
                if let reason = cancellation?.cancelReason {
                    throw BackupError(
                        .interrupted, "\(reason); the verify stopped after \(index) of \(ranges.count) ranges")
                }
                let (bytes, processed) = try reader.take(index)
                try consume(ranges[index], bytes, processed)
            }
        } catch {
            reader.fail(error)
            throw error
        }
    }

    private func readLoop(
        source: any RangeSource, process: (ByteRange, [UInt8]) throws -> Processed
    ) {
        while let index = claim() {
            do {
                let bytes = try source.read(ranges[index])
                let processed = try process(ranges[index], bytes)
                condition.withLock {
                    ready[index] = (bytes, processed)
                    condition.broadcast()
                }
            } catch {
                fail(error)
                return
            }
        }
    }

    /// The next range to read, once the window allows it; nil when all are claimed or a read failed.
    private func claim() -> Int? {
        condition.withLock {
            while nextToRead < ranges.count && nextToRead >= consumed + window && failure == nil {
                condition.wait()
            }
            guard nextToRead < ranges.count, failure == nil else { return nil }
            defer { nextToRead += 1 }
            return nextToRead
        }
    }

    private func take(_ index: Int) throws -> ([UInt8], Processed) {
        try condition.withLock {
            while ready[index] == nil && failure == nil { condition.wait() }
            if let failure { throw failure }
            guard let taken = ready.removeValue(forKey: index) else { throw CancellationError() }
            consumed = index + 1
            condition.broadcast()
            return taken
        }
    }

    private func fail(_ error: any Error) {
        condition.withLock {
            if failure == nil { failure = error }
            condition.broadcast()
        }
    }
}

import Synchronization

/// Collects the results of concurrent work into slots, then yields them in order.
public final class ConcurrentResults<Value: Sendable>: Sendable {
    private let slots: Mutex<[Result<Value, any Error>?]>

    public init(count: Int) {
        slots = Mutex(Array(repeating: nil, count: count))
    }

    public func set(_ index: Int, _ result: Result<Value, any Error>) {
        slots.withLock { $0[index] = result }
    }

    /// The values in slot order; rethrows the first error by slot.
    public func values() throws -> [Value] {
        try slots.withLock { slots in
            try slots.map { slot in
                guard let slot else { throw StorageError.io(object: "", reason: "missing result") }
                return try slot.get()
            }
        }
    }
}

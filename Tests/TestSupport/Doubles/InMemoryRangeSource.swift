import Storage
import Synchronization

/// A `RangeSource` over bytes in memory, with the same request log and fault schedule as
/// `InMemoryObjectStore` (every read is a `.read` request): a remote image without a server.
///
/// The source is pinned to the version it was made with; a `changeETag` fault (or `changeVersion()`)
/// replaces the version under it, and every later read throws `changed`, as a pinned S3 read does
/// once the object was replaced. Safe to use from many threads at once.
public final class InMemoryRangeSource: RangeSource {
    private let bytes: [UInt8]
    private let pinned: String
    private let current: Mutex<String>
    public let displayName: String
    /// The log and fault schedule every read goes through.
    public let script: RequestScript

    public init(bytes: [UInt8], name: String = "memory://source", script: RequestScript = RequestScript()) {
        self.bytes = bytes
        self.displayName = name
        self.script = script
        pinned = "v1"
        current = Mutex(pinned)
    }

    public var size: UInt64 { UInt64(bytes.count) }
    public var version: String? { pinned }

    /// Replaces the version under the source, as a rewrite of the object with the same bytes would.
    public func changeVersion() {
        current.withLock { $0 += "+" }
    }

    public func read(_ range: ByteRange) throws -> [UInt8] {
        try script.perform(StoreRequest(operation: .read, key: displayName, range: range), changeETag: changeVersion) {
            keeping in
            let now = current.withLock { $0 }
            guard now == pinned else {
                throw StorageError.changed(object: displayName, reason: "version \(now), expected \(pinned)")
            }
            try checkBounds(range)
            let start = Int(range.offset)
            let read = Array(bytes[start..<start + min(range.length, keeping ?? .max)])
            return (read, read.count)
        }
    }
}

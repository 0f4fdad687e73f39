import Foundation
import Storage
import Synchronization

/// An `ObjectStore` held in memory, with a request log and a scripted schedule of latency and faults
/// (`script`): unit tests of store users without an S3 server.
///
/// Behaves like S3 where the other stores do: ETags change on every write, `ifMatch` pins reads,
/// listings are in UTF-8 order with continuation tokens, parts but the last must be at least
/// `minimumPartSize` bytes, an unknown upload is `notFound`. Safe to use from many threads at once.
public final class InMemoryObjectStore: ObjectStore {
    struct StoredObject {
        var bytes: [UInt8]
        var etag: String
        var lastModified: Date
        var metadata: [String: String]

        func info(key: String, withMetadata: Bool) -> ObjectInfo {
            ObjectInfo(
                key: key, size: UInt64(bytes.count), etag: etag, lastModified: lastModified,
                metadata: withMetadata ? metadata : [:])
        }
    }

    struct PendingUpload {
        var key: String
        var initiated: Date
        var metadata: [String: String]
        var parts: [Int: (bytes: [UInt8], etag: String)] = [:]
    }

    struct State {
        var objects: [String: StoredObject] = [:]
        var uploads: [String: PendingUpload] = [:]
        var nextTag = 1
        var frozenNow: Date?

        mutating func newTag() -> String {
            defer { nextTag += 1 }
            return String(format: "%032x", nextTag)
        }

        var now: Date { frozenNow ?? Date() }
    }

    let state = Mutex(State())
    public let displayName: String
    /// The log and fault schedule every call goes through.
    public let script: RequestScript
    /// S3 refuses smaller parts (but the last) at completion; tests of small objects lower it.
    public let minimumPartSize: Int

    public init(name: String = "memory", minimumPartSize: Int = 5 << 20, script: RequestScript = RequestScript()) {
        self.displayName = "memory://\(name)"
        self.minimumPartSize = minimumPartSize
        self.script = script
    }

    // MARK: Test controls

    /// Stamps every later write and upload with `date` (nil: the real clock again).
    public func freezeClock(at date: Date?) {
        state.withLock { $0.frozenNow = date }
    }

    /// The bytes of `key`, outside the log and the schedule.
    public func contents(of key: String) -> [UInt8]? {
        state.withLock { $0.objects[key]?.bytes }
    }

    /// Every key held, in listing order.
    public var keys: [String] {
        state.withLock { Array($0.objects.keys) }.sorted(by: Self.listingOrder)
    }

    /// Gives `key` a new ETag without changing its bytes, as a replacement with equal content would.
    public func changeETag(of key: String) {
        state.withLock { state in
            let tag = state.newTag()
            state.objects[key]?.etag = tag
        }
    }

    static func listingOrder(_ a: String, _ b: String) -> Bool {
        Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
    }

    func changer(_ key: String) -> () -> Void { { self.changeETag(of: key) } }

    // MARK: Objects

    public func head(_ key: String) throws -> ObjectInfo {
        try script.perform(StoreRequest(operation: .head, key: key), changeETag: changer(key)) { _ in
            let info = state.withLock { $0.objects[key]?.info(key: key, withMetadata: true) }
            guard let info else { throw StorageError.notFound(object: key) }
            return (info, 0)
        }
    }

    public func get(_ key: String, range: ByteRange?, ifMatch: String?) throws -> [UInt8] {
        try script.perform(StoreRequest(operation: .get, key: key, range: range), changeETag: changer(key)) {
            keeping in
            guard let object = state.withLock({ $0.objects[key] }) else { throw StorageError.notFound(object: key) }
            if let ifMatch, ifMatch != object.etag {
                throw StorageError.changed(object: key, reason: "ETag \(object.etag), expected \(ifMatch)")
            }
            let size = UInt64(object.bytes.count)
            let range = range ?? ByteRange(offset: 0, length: object.bytes.count)
            guard range.length >= 0, range.offset <= size, UInt64(range.length) <= size - range.offset else {
                throw StorageError.outOfRange(object: key, range: range, size: size)
            }
            let start = Int(range.offset)
            let length = min(range.length, keeping ?? .max)
            let bytes = Array(object.bytes[start..<start + length])
            return (bytes, bytes.count)
        }
    }

    @discardableResult
    public func put(_ key: String, bytes: [UInt8], contentType: String?, metadata: [String: String]) throws -> String {
        let request = StoreRequest(operation: .put, key: key, bytes: bytes.count)
        return try script.perform(request, changeETag: changer(key)) { keeping in
            let stored = Array(bytes.prefix(keeping ?? .max))
            let etag = state.withLock { state in
                let etag = state.newTag()
                state.objects[key] = StoredObject(
                    bytes: stored, etag: etag, lastModified: state.now, metadata: Self.lowercased(metadata))
                return etag
            }
            return (etag, bytes.count)
        }
    }

    public func delete(_ key: String) throws {
        try script.perform(StoreRequest(operation: .delete, key: key)) { _ in
            state.withLock { _ = $0.objects.removeValue(forKey: key) }
            return ((), 0)
        }
    }

    public func list(prefix: String, continuationToken: String?, maxKeys: Int) throws -> ObjectListing {
        try script.perform(StoreRequest(operation: .list, key: prefix)) { _ in
            guard maxKeys > 0 else { throw StorageError.invalidConfiguration(reason: "maxKeys must be positive") }
            let all = state.withLock { state in
                state.objects.filter { $0.key.hasPrefix(prefix) }
                    .map { $0.value.info(key: $0.key, withMetadata: false) }
            }
            var objects = all.sorted { Self.listingOrder($0.key, $1.key) }
            if let continuationToken {
                objects.removeAll { !Self.listingOrder(continuationToken, $0.key) }
            }
            let page = Array(objects.prefix(maxKeys))
            let token = objects.count > maxKeys ? page.last?.key : nil
            return (ObjectListing(objects: page, nextContinuationToken: token), 0)
        }
    }

    static func lowercased(_ metadata: [String: String]) -> [String: String] {
        Dictionary(metadata.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { _, last in last })
    }
}

/// A `RangeSource` over one object of an `ObjectStore`, pinned to the ETag seen at open.
public struct StoreObjectSource<Store: ObjectStore>: RangeSource {
    public let store: Store
    /// The version every read is pinned to.
    public let info: ObjectInfo

    public init(store: Store, info: ObjectInfo) {
        self.store = store
        self.info = info
    }

    public var size: UInt64 { info.size }
    public var displayName: String { "\(store.displayName)/\(info.key)" }
    public var version: String? { info.etag.isEmpty ? nil : info.etag }

    public func read(_ range: ByteRange) throws -> [UInt8] {
        try checkBounds(range)
        if range.length == 0 { return [] }
        return try store.get(info.key, range: range, ifMatch: info.etag)
    }

    public func read(ranges: [ByteRange]) throws -> [[UInt8]] {
        for range in ranges { try checkBounds(range) }
        let wanted = ranges.filter { $0.length > 0 }
        let fetched = try store.get(info.key, ranges: wanted, ifMatch: info.etag)
        var next = fetched.makeIterator()
        return ranges.map { $0.length == 0 ? [] : next.next() ?? [] }
    }
}

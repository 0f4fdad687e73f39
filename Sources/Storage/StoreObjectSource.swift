/// A `RangeSource` over one object of an `ObjectStore`, pinned to the ETag seen at open.
public struct StoreObjectSource<Store: ObjectStore>: RangeSource {
    public let store: Store
    /// The version every read is pinned to.
    public let info: ObjectInfo
    /// Bytes of this version the opener already has; reads inside them are free.
    public let kept: KeptBytes

    public init(store: Store, info: ObjectInfo, kept: KeptBytes? = nil) {
        self.store = store
        self.info = info
        self.kept = kept ?? KeptBytes(size: info.size)
    }

    public var size: UInt64 { info.size }
    public var displayName: String { "\(store.displayName)/\(info.key)" }
    public var version: String? { info.etag.isEmpty ? nil : info.etag }

    public func read(_ range: ByteRange) throws -> [UInt8] {
        try checkBounds(range)
        if range.length == 0 { return [] }
        return try kept.read(range) { try store.get(info.key, range: $0, ifMatch: info.etag) }
    }

    public func read(ranges: [ByteRange]) throws -> [[UInt8]] {
        for range in ranges { try checkBounds(range) }
        let wanted = ranges.filter { $0.length > 0 && !kept.holds($0) }
        var next = try store.get(info.key, ranges: wanted, ifMatch: info.etag).makeIterator()
        return ranges.map { range in
            if range.length == 0 { return [] }
            return kept.holds(range) ? kept.read(range) { _ in [] } : next.next() ?? []
        }
    }
}

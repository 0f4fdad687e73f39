/// A `RangeSource` over one object of an `ObjectStore`, pinned to the ETag seen at open.
public struct StoreObjectSource<Store: ObjectStore>: RangeSource {
    public let store: Store
    /// The version every read is pinned to.
    public let info: ObjectInfo
    /// The first bytes of this version, when the opener already has them; reads inside these
    /// (or `suffix`) are free.
    public let prefix: [UInt8]
    /// The last bytes of this version, likewise.
    public let suffix: [UInt8]

    public init(store: Store, info: ObjectInfo, prefix: [UInt8] = [], suffix: [UInt8] = []) {
        self.store = store
        self.info = info
        self.prefix = prefix.count <= Int(clamping: info.size) ? prefix : []
        self.suffix = suffix.count <= Int(clamping: info.size) ? suffix : []
    }

    private func fromPrefix(_ range: ByteRange) -> [UInt8]? {
        if range.offset + UInt64(range.length) <= UInt64(prefix.count) {
            return Array(prefix[Int(range.offset)..<Int(range.offset) + range.length])
        }
        let suffixOffset = info.size - UInt64(suffix.count)
        guard !suffix.isEmpty, range.offset >= suffixOffset, range.end <= info.size else { return nil }
        let start = Int(range.offset - suffixOffset)
        return Array(suffix[start..<start + range.length])
    }

    public var size: UInt64 { info.size }
    public var displayName: String { "\(store.displayName)/\(info.key)" }
    public var version: String? { info.etag.isEmpty ? nil : info.etag }

    public func read(_ range: ByteRange) throws -> [UInt8] {
        try checkBounds(range)
        if range.length == 0 { return [] }
        if let kept = fromPrefix(range) { return kept }
        return try store.get(info.key, range: range, ifMatch: info.etag)
    }

    public func read(ranges: [ByteRange]) throws -> [[UInt8]] {
        for range in ranges { try checkBounds(range) }
        let wanted = ranges.filter { $0.length > 0 && fromPrefix($0) == nil }
        let fetched = try store.get(info.key, ranges: wanted, ifMatch: info.etag)
        var next = fetched.makeIterator()
        return ranges.map { range in
            if range.length == 0 { return [] }
            return fromPrefix(range) ?? next.next() ?? []
        }
    }
}

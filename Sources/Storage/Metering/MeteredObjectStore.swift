/// An `ObjectStore` whose every call is counted by a `RequestMeter`, for stores that send no HTTP
/// (the local directory store): each call is one request to where the bytes live.
public struct MeteredObjectStore<Base: ObjectStore>: ObjectStore {
    public let base: Base
    public let meter: RequestMeter

    public init(_ base: Base, meter: RequestMeter) {
        self.base = base
        self.meter = meter
    }

    public var displayName: String { base.displayName }

    private func counted<T>(_ body: () throws -> T) throws -> T {
        try meter.measure(body, received: { _ in 0 })
    }

    public func head(_ key: String) throws -> ObjectInfo { try counted { try base.head(key) } }

    public func get(_ key: String, range: ByteRange?, ifMatch: String?) throws -> [UInt8] {
        try meter.measure({ try base.get(key, range: range, ifMatch: ifMatch) }, received: \.count)
    }

    public func get(_ key: String, ranges: [ByteRange], ifMatch: String?) throws -> [[UInt8]] {
        try ParallelWork.map(count: ranges.count, width: 16) { index in
            try get(key, range: ranges[index], ifMatch: ifMatch)
        }
    }

    public func put(_ key: String, bytes: [UInt8], contentType: String?, metadata: [String: String]) throws -> String {
        try counted { try base.put(key, bytes: bytes, contentType: contentType, metadata: metadata) }
    }

    public func createMultipartUpload(_ key: String, contentType: String?, metadata: [String: String]) throws
        -> String
    {
        try counted { try base.createMultipartUpload(key, contentType: contentType, metadata: metadata) }
    }

    public func uploadPart(_ key: String, uploadId: String, partNumber: Int, bytes: [UInt8]) throws -> String {
        try counted { try base.uploadPart(key, uploadId: uploadId, partNumber: partNumber, bytes: bytes) }
    }

    public func uploadPart(_ key: String, uploadId: String, partNumber: Int, bytes: [UInt8], sha256: [UInt8]) throws
        -> String
    {
        try counted {
            try base.uploadPart(key, uploadId: uploadId, partNumber: partNumber, bytes: bytes, sha256: sha256)
        }
    }

    public func completeMultipartUpload(_ key: String, uploadId: String, parts: [CompletedPart]) throws -> String {
        try counted { try base.completeMultipartUpload(key, uploadId: uploadId, parts: parts) }
    }

    public func abortMultipartUpload(_ key: String, uploadId: String) throws {
        try counted { try base.abortMultipartUpload(key, uploadId: uploadId) }
    }

    public func listMultipartUploads(prefix: String) throws -> [MultipartUpload] {
        try counted { try base.listMultipartUploads(prefix: prefix) }
    }

    public func list(prefix: String, continuationToken: String?, maxKeys: Int) throws -> ObjectListing {
        try counted { try base.list(prefix: prefix, continuationToken: continuationToken, maxKeys: maxKeys) }
    }

    public func delete(_ key: String) throws { try counted { try base.delete(key) } }

    /// Pinned to the version `head` reports now; its reads come back through this store's `get`,
    /// so they are counted, and so is the `head`.
    public func rangeSource(for key: String) throws -> any RangeSource {
        StoreObjectSource(store: self, info: try head(key))
    }
}

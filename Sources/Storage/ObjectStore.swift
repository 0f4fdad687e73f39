/// A flat namespace of immutable-by-convention objects: an S3 bucket or a local directory.
///
/// All calls block and may be made from many threads at once. Errors are `StorageError`s
/// whose messages name the object and never contain credentials.
public protocol ObjectStore: Sendable {
    /// Where the store lives, for messages and logs; never contains credentials.
    var displayName: String { get }

    /// Size, ETag and metadata of `key`; throws `notFound` when it does not exist.
    func head(_ key: String) throws -> ObjectInfo

    /// The bytes of `range` (the whole object when `nil`). With `ifMatch`, throws `changed`
    /// unless the object's current ETag equals it. A range reaching past the end throws
    /// `outOfRange`.
    func get(_ key: String, range: ByteRange?, ifMatch: String?) throws -> [UInt8]

    /// Several ranges of one object, fetched concurrently, returned in the order given.
    func get(_ key: String, ranges: [ByteRange], ifMatch: String?) throws -> [[UInt8]]

    /// Stores `bytes` as `key`, replacing any previous object atomically; returns the new ETag.
    @discardableResult
    func put(_ key: String, bytes: [UInt8], contentType: String?, metadata: [String: String]) throws -> String

    /// Starts a multipart upload and returns its id.
    func createMultipartUpload(_ key: String, contentType: String?, metadata: [String: String]) throws -> String

    /// Stores part `partNumber` (1...10000) and returns its ETag. Every part but the last
    /// must be at least 5 MiB (S3 and R2 refuse smaller ones at completion).
    func uploadPart(_ key: String, uploadId: String, partNumber: Int, bytes: [UInt8]) throws -> String

    /// `uploadPart` for a caller that has already hashed the part: `sha256` must be the SHA-256 of
    /// `bytes`. A store that can make its server check the part on receipt does so with it (S3's
    /// signed `x-amz-content-sha256`), without hashing the part again.
    func uploadPart(_ key: String, uploadId: String, partNumber: Int, bytes: [UInt8], sha256: [UInt8]) throws
        -> String

    /// Joins `parts` (ascending part numbers) into the object `key`; returns its ETag.
    @discardableResult
    func completeMultipartUpload(_ key: String, uploadId: String, parts: [CompletedPart]) throws -> String

    /// Discards an upload and its parts; throws `notFound` for an unknown upload.
    func abortMultipartUpload(_ key: String, uploadId: String) throws

    /// Uploads that were started and neither completed nor aborted, oldest first.
    func listMultipartUploads(prefix: String) throws -> [MultipartUpload]

    /// One page of the objects whose keys start with `prefix`.
    func list(prefix: String, continuationToken: String?, maxKeys: Int) throws -> ObjectListing

    /// Removes `key`; removing a missing key succeeds, as in S3.
    func delete(_ key: String) throws

    /// A `RangeSource` over `key`, pinned to the version seen now: later reads throw
    /// `changed` when the object is replaced.
    func rangeSource(for key: String) throws -> any RangeSource
}

extension ObjectStore {
    /// The whole object, or `range` of it.
    public func get(_ key: String, range: ByteRange? = nil) throws -> [UInt8] {
        try get(key, range: range, ifMatch: nil)
    }

    /// Several ranges of one object, fetched concurrently.
    public func get(_ key: String, ranges: [ByteRange]) throws -> [[UInt8]] {
        try get(key, ranges: ranges, ifMatch: nil)
    }

    /// Stores `bytes` as `key` without metadata.
    @discardableResult
    public func put(_ key: String, bytes: [UInt8], contentType: String? = nil) throws -> String {
        try put(key, bytes: bytes, contentType: contentType, metadata: [:])
    }

    /// Starts a multipart upload without metadata.
    public func createMultipartUpload(_ key: String, contentType: String? = nil) throws -> String {
        try createMultipartUpload(key, contentType: contentType, metadata: [:])
    }

    /// One page of at most 1000 objects.
    public func list(prefix: String, continuationToken: String? = nil) throws -> ObjectListing {
        try list(prefix: prefix, continuationToken: continuationToken, maxKeys: 1000)
    }

    /// Every object under `prefix`, following continuation tokens.
    public func listAll(prefix: String, pageSize: Int = 1000) throws -> [ObjectInfo] {
        var objects: [ObjectInfo] = []
        var token: String?
        repeat {
            let page = try list(prefix: prefix, continuationToken: token, maxKeys: pageSize)
            objects += page.objects
            token = page.nextContinuationToken
        } while token != nil
        return objects
    }

    /// Stores without a server-side check have no use for the digest.
    public func uploadPart(_ key: String, uploadId: String, partNumber: Int, bytes: [UInt8], sha256: [UInt8])
        throws -> String
    {
        try uploadPart(key, uploadId: uploadId, partNumber: partNumber, bytes: bytes)
    }

    /// Concurrent fan-out over single-range gets, at most 16 at once.
    public func get(_ key: String, ranges: [ByteRange], ifMatch: String?) throws -> [[UInt8]] {
        try ParallelWork.map(count: ranges.count, width: 16) { index in
            try get(key, range: ranges[index], ifMatch: ifMatch)
        }
    }

    /// A source pinned to the ETag and size that `head` reports now.
    public func rangeSource(for key: String) throws -> any RangeSource {
        StoreObjectSource(store: self, info: try head(key))
    }
}

import Storage

extension S3Store {
    /// ListObjectsV2: one page of the keys under `prefix`.
    public func list(prefix: String, continuationToken: String?, maxKeys: Int) throws -> ObjectListing {
        var query: [(name: String, value: String)] = [
            ("list-type", "2"), ("prefix", prefix), ("max-keys", String(maxKeys)),
        ]
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        let response = try send("GET", key: nil, query: query, object: displayName)
        guard (200..<300).contains(response.status) else { throw failure(response, object: displayName) }
        return try Self.parseListing(response.body, object: displayName)
    }

    /// A `ListBucketResult` document as one page of `ObjectInfo`s.
    static func parseListing(_ body: [UInt8], object: String) throws -> ObjectListing {
        guard let tree = XMLTree.parse(body), tree.name == "ListBucketResult" else {
            throw StorageError.io(object: object, reason: "ListObjectsV2 answer is not a ListBucketResult")
        }
        let objects = try tree.all("Contents").map { entry -> ObjectInfo in
            guard let key = entry.value("Key"), let size = entry.value("Size").flatMap(UInt64.init) else {
                throw StorageError.io(object: object, reason: "ListObjectsV2 entry lacks Key or Size")
            }
            return ObjectInfo(
                key: key, size: size, etag: HTTPResponse.unquote(entry.value("ETag") ?? ""),
                lastModified: entry.value("LastModified").flatMap(S3Dates.parseISODate))
        }
        let truncated = tree.value("IsTruncated") == "true"
        let token = tree.value("NextContinuationToken").flatMap { $0.isEmpty ? nil : $0 }
        if truncated && token == nil {
            throw StorageError.io(object: object, reason: "truncated listing without NextContinuationToken")
        }
        return ObjectListing(objects: objects, nextContinuationToken: truncated ? token : nil)
    }
}

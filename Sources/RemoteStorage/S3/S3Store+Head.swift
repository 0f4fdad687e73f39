import Storage

extension S3Store {
    /// HeadObject: size, ETag, date and user metadata without the body.
    public func head(_ key: String) throws -> ObjectInfo {
        let response = try send("HEAD", key: key, object: objectName(key))
        guard (200..<300).contains(response.status) else { throw failure(response, object: objectName(key)) }
        guard let length = response.headers["content-length"].flatMap(UInt64.init), let etag = response.etag else {
            throw StorageError.io(object: objectName(key), reason: "HEAD answer lacks Content-Length or ETag")
        }
        var metadata: [String: String] = [:]
        for (name, value) in response.headers where name.hasPrefix("x-amz-meta-") {
            metadata[String(name.dropFirst("x-amz-meta-".count))] = value
        }
        return ObjectInfo(
            key: key, size: length, etag: etag,
            lastModified: response.headers["last-modified"].flatMap(S3Dates.parseHTTPDate),
            metadata: metadata)
    }
}

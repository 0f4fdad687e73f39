import Storage

extension S3Store {
    /// PutObject in one request; returns the new ETag.
    @discardableResult
    public func put(_ key: String, bytes: [UInt8], contentType: String?, metadata: [String: String]) throws -> String {
        let headers = Self.objectHeaders(contentType: contentType, metadata: metadata)
        let response = try send("PUT", key: key, headers: headers, body: bytes, object: objectName(key))
        guard (200..<300).contains(response.status) else { throw failure(response, object: objectName(key)) }
        return response.etag ?? ""
    }
}

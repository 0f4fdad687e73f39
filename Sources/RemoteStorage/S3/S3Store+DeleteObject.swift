import Storage

extension S3Store {
    /// DeleteObject; an object that is already gone counts as deleted.
    public func delete(_ key: String) throws {
        let response = try send("DELETE", key: key, object: objectName(key))
        guard (200..<300).contains(response.status) || response.status == 404 else {
            throw failure(response, object: objectName(key))
        }
    }
}

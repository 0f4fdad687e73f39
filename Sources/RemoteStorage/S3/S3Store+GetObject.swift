import Storage

extension S3Store {
    /// GetObject, whole or one range, pinned to `ifMatch` when given.
    public func get(_ key: String, range: ByteRange?, ifMatch: String?) throws -> [UInt8] {
        if let range, range.length == 0 {
            // S3 cannot express an empty range; check that it lies inside the object.
            let info = try head(key)
            if let ifMatch, info.etag != ifMatch {
                throw StorageError.changed(object: objectName(key), reason: "ETag \(info.etag), expected \(ifMatch)")
            }
            guard range.offset <= info.size else {
                throw StorageError.outOfRange(object: objectName(key), range: range, size: info.size)
            }
            return []
        }
        return try RangedDownload(
            object: objectName(key), range: range, ifMatch: ifMatch, client: client, retryPolicy: retryPolicy,
            logger: logger,
            makeRequest: { [self] headers in signedRequest("GET", key: key, headers: headers) },
            failure: { [self] response, range in failure(response, object: objectName(key), range: range) },
            currentSize: { [self] in try? head(key).size }
        ).run()
    }

    /// Several ranges of one object, `parallelRequests` GETs at a time.
    public func get(_ key: String, ranges: [ByteRange], ifMatch: String?) throws -> [[UInt8]] {
        try ParallelWork.map(count: ranges.count, width: parallelRequests) { [self] index in
            try get(key, range: ranges[index], ifMatch: ifMatch)
        }
    }

    /// Opens `key` with two ranged GETs sent at once instead of HEAD, then GETs: the head of the
    /// object (its Content-Range and ETag give the size and version) and its last MiB. Both
    /// bodies are kept (see `HeadTailOpener`).
    public func rangeSource(for key: String) throws -> any RangeSource {
        let opener = HeadTailOpener(headLength: 128 << 10, tailLength: 1 << 20)
        let answers = try opener.open { [self] range in
            try send("GET", key: key, headers: [("Range", range)], object: objectName(key))
        }
        let response = answers.head
        guard response.status == 206, let total = response.contentRange?.total, let etag = response.etag
        else {
            // An empty object (416), or a server that ignores ranges: ask plainly.
            if response.status == 404 { throw failure(response, object: objectName(key)) }
            return StoreObjectSource(store: self, info: try head(key))
        }
        let info = ObjectInfo(
            key: key, size: total, etag: etag,
            lastModified: response.headers["last-modified"].flatMap(S3Dates.parseHTTPDate))
        return StoreObjectSource(store: self, info: info, kept: answers.kept(size: total, etag: etag))
    }
}

/// An `ObjectStore` that can also take an object written in place: bytes at any offset into one
/// staging file inside the store, published atomically under its key at the end.
///
/// On a local disk this saves what a multipart upload costs there (every part written to a file of
/// its own, then copied once more to join them). Until it is completed or aborted the object counts
/// as a multipart upload: `listMultipartUploads` shows it and `abortMultipartUpload` removes it, so
/// what a killed process left behind is found and pruned like any stale upload.
public protocol PositionedWriteStore: ObjectStore {
    /// Starts the object `key`, which appears only when the upload's `complete()` succeeds.
    func startPositionedUpload(_ key: String, contentType: String?, metadata: [String: String]) throws
        -> any PositionedUpload
}

/// An object being written in place into a `PositionedWriteStore`; used from one thread at a time.
public protocol PositionedUpload: AnyObject {
    /// The key the object gets on completion.
    var key: String { get }
    /// The id under which `listMultipartUploads` shows the upload until it is completed or aborted.
    var uploadId: String { get }

    /// Writes `bytes` at `offset`, growing the object as needed.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws

    /// Reads up to `buffer.count` bytes at `offset`; returns how many were read, 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int

    /// Makes the bytes durable, then publishes them as `key` in one atomic step; returns the ETag.
    @discardableResult
    func complete() throws -> String

    /// Discards the upload and its bytes; after `complete()`, or a second time, it does nothing.
    func abort() throws
}

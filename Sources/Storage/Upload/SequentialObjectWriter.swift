/// Stores one object written front to back, whose first bytes are final only at the end.
///
/// Bytes are appended in order; `finish(replacingPrefixWith:)` then replaces the first bytes (a
/// header that is known last) and publishes the object. Until then nothing is visible under the key,
/// and `abort()` removes whatever was stored. Driven from one thread at a time; `bytesStored` may be
/// read by progress reporters on that thread.
public protocol SequentialObjectWriter: AnyObject, Sendable {
    /// The key the object gets.
    var key: String { get }
    /// Bytes appended so far (the object's size once finished).
    var bytesWritten: UInt64 { get }
    /// Bytes the store has acknowledged so far.
    var bytesStored: UInt64 { get }

    /// Announces the largest the object can become, before the first byte; writers that cut parts
    /// size them from it.
    func plan(maximumSize: UInt64)

    /// Appends `bytes` at offset `bytesWritten`.
    func write(_ bytes: UnsafeRawBufferPointer) throws

    /// Replaces the first `header.count` bytes with `header`, publishes the object under `key`
    /// (checking the store holds `bytesWritten` bytes), and returns its digest. Called once.
    func finish(replacingPrefixWith header: [UInt8]) throws -> UploadDigest

    /// Removes whatever was stored, the published object included; returns what could not be removed
    /// (the store's own retries already ran), or nil.
    @discardableResult
    func abort() -> String?
}

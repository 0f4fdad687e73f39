/// Random access to the bytes of one immutable object (a local image, an S3 object, a URL).
///
/// This is the only seam between the image reader and where bytes live. Sources may be
/// remote with high latency, so callers batch: they ask for large ranges, or for several
/// ranges at once through `read(ranges:)`, never for one 4 KiB piece at a time.
/// Implementations are safe to call from many threads at once.
public protocol RangeSource: Sendable {
    /// Total size of the object in bytes.
    var size: UInt64 { get }

    /// A human-readable name for errors and logs; never contains credentials.
    var displayName: String { get }

    /// Identifies this version of the object's bytes (an ETag, or size and mtime for a local
    /// file), so caches never serve bytes of a replaced object; nil when unknown.
    var version: String? { get }

    /// Returns exactly the bytes of `range`. A range that reaches past `size` throws
    /// `StorageError.outOfRange`: a short read is an error, never silently padded.
    func read(_ range: ByteRange) throws -> [UInt8]

    /// Returns the bytes of each range, in the order given. Remote sources issue the
    /// requests concurrently.
    func read(ranges: [ByteRange]) throws -> [[UInt8]]
}

extension RangeSource {
    public var version: String? { nil }

    /// Reads `length` bytes at `offset`.
    public func read(offset: UInt64, length: Int) throws -> [UInt8] {
        try read(ByteRange(offset: offset, length: length))
    }

    /// Concurrent fan-out over `read(_:)` (at most 16 at once, on threads of their own: these
    /// block on I/O); sources with a native batch API override it.
    public func read(ranges: [ByteRange]) throws -> [[UInt8]] {
        try ParallelWork.map(count: ranges.count, width: 16) { index in try read(ranges[index]) }
    }

    /// Throws `outOfRange` unless `range` lies inside the object.
    public func checkBounds(_ range: ByteRange) throws {
        guard range.length >= 0, range.offset <= size, UInt64(range.length) <= size - range.offset else {
            throw StorageError.outOfRange(object: displayName, range: range, size: size)
        }
    }
}

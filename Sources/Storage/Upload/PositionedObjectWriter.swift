import Crypto
import Synchronization

/// A `SequentialObjectWriter` that writes the object in place into a `PositionedWriteStore` (the local
/// directory store): appends in large buffered writes, the first bytes at offset 0 last, then the
/// exact SHA-256 from one read of the staged file (still in the page cache), then an atomic publish.
///
/// Nothing is written twice, unlike a multipart upload into the local store (part files, then a copy
/// to join them). Until the publish the object is a staged upload the store does not list; `abort`
/// removes it, and a prune finds it if the process was killed.
///
/// `@unchecked Sendable`: driven from one thread only; `bytesStored` is atomic because progress
/// reporters may read it.
public final class PositionedObjectWriter: SequentialObjectWriter, @unchecked Sendable {
    public let store: any PositionedWriteStore
    public let key: String
    private let contentType: String?
    private let cancellation: CancellationFlag
    private let bufferLimit: Int
    private var buffer: [UInt8] = []
    private var upload: (any PositionedUpload)?
    private var published = false
    public private(set) var bytesWritten: UInt64 = 0
    private let flushed = Atomic<UInt64>(0)

    /// Appends are gathered into writes of `bufferSize` bytes.
    public init(
        store: any PositionedWriteStore, key: String, contentType: String?, cancellation: CancellationFlag,
        bufferSize: Int = 4 << 20
    ) {
        self.store = store
        self.key = key
        self.contentType = contentType
        self.cancellation = cancellation
        self.bufferLimit = max(bufferSize, 4096)
    }

    public var bytesStored: UInt64 { flushed.load(ordering: .relaxed) }

    /// A file takes any size: nothing to plan.
    public func plan(maximumSize: UInt64) {}

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try cancellation.check()
        if buffer.count + bytes.count > bufferLimit { try flush() }
        if bytes.count >= bufferLimit {
            try startedUpload().write(bytes, at: bytesWritten)
            flushed.store(bytesWritten + UInt64(bytes.count), ordering: .relaxed)
        } else {
            if buffer.capacity < bufferLimit { buffer.reserveCapacity(bufferLimit) }
            buffer.append(contentsOf: bytes)
        }
        bytesWritten += UInt64(bytes.count)
    }

    public func finish(replacingPrefixWith header: [UInt8]) throws -> UploadDigest {
        try cancellation.check()
        try flush()
        let upload = try startedUpload()
        try header.withUnsafeBytes { try upload.write($0, at: 0) }
        let digest = try readBackDigest(upload)
        try cancellation.check()
        published = true
        try upload.complete()
        let info = try store.head(key)
        guard info.size == bytesWritten else {
            throw StorageError.io(
                object: "\(store.displayName)/\(key)",
                reason: "verification failed: the store holds \(info.size) bytes, expected \(bytesWritten)")
        }
        return .sha256(Array(digest))
    }

    @discardableResult
    public func abort() -> String? {
        guard let upload else { return nil }
        do {
            // Once completed, the upload's abort does nothing and the published object goes instead.
            try upload.abort()
            if published { try store.delete(key) }
            return nil
        } catch {
            return "\(key) could not be removed (\(error))"
        }
    }

    private func startedUpload() throws -> any PositionedUpload {
        if let upload { return upload }
        let started = try store.startPositionedUpload(key, contentType: contentType, metadata: [:])
        upload = started
        return started
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        let start = bytesWritten - UInt64(buffer.count)
        try buffer.withUnsafeBytes { try startedUpload().write($0, at: start) }
        flushed.store(bytesWritten, ordering: .relaxed)
        buffer.removeAll(keepingCapacity: true)
    }

    // The first bytes change last, so the digest needs a second pass; the staged file is still in the
    // page cache, and the pass costs about a tenth of a create (docs/benchmarks.md).
    private func readBackDigest(_ upload: any PositionedUpload) throws -> SHA256.Digest {
        var hasher = SHA256()
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        var offset: UInt64 = 0
        while offset < bytesWritten {
            let want = min(chunk.count, Int(bytesWritten - offset))
            let n = try upload.read(into: UnsafeMutableRawBufferPointer(rebasing: chunk[0..<want]), at: offset)
            if n == 0 {
                throw StorageError.io(object: key, reason: "the staged object shrank while it was hashed")
            }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            offset += UInt64(n)
        }
        return hasher.finalize()
    }
}

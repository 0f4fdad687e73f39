import Crypto
import SquashWriter
import Storage
import Synchronization

/// An `ImageSink` that writes the image in place into a `PositionedWriteStore` (the local directory
/// store): appends in large buffered writes, the superblock at offset 0 last, then the exact SHA-256
/// from one read of the staged file (still in the page cache), then an atomic publish.
///
/// Nothing is written twice, unlike a multipart upload into the local store (part files, then a copy
/// to join them). Until the publish the image is a staged upload the store does not list; `abort`
/// removes it, and `prune` finds it if the process was killed.
///
/// `@unchecked Sendable`: driven from the building thread only; `bytesUploaded` is atomic because
/// progress reporters may read it.
final class PositionedImageSink: BackupImageSink, @unchecked Sendable {
    let store: any PositionedWriteStore
    let key: String
    private let cancellation: BackupCancellation
    private let bufferLimit: Int
    private var buffer: [UInt8] = []
    private var upload: (any PositionedUpload)?
    private var published = false
    private(set) var bytesWritten: UInt64 = 0
    private let flushed = Atomic<UInt64>(0)
    private(set) var failure: (any Error)?

    init(store: any PositionedWriteStore, key: String, cancellation: BackupCancellation, bufferSize: Int = 4 << 20) {
        self.store = store
        self.key = key
        self.cancellation = cancellation
        self.bufferLimit = max(bufferSize, 4096)
    }

    var bytesUploaded: UInt64 { flushed.load(ordering: .relaxed) }

    /// A file takes any size: nothing to plan.
    func plan(fileBytes: UInt64, files: Int, blockSize: Int) {}

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        do {
            if let reason = cancellation.cancelReason { throw BackupError(.createFailed, reason) }
            if buffer.count + bytes.count > bufferLimit { try flush() }
            if bytes.count >= bufferLimit {
                try startedUpload().write(bytes, at: bytesWritten)
                flushed.store(bytesWritten + UInt64(bytes.count), ordering: .relaxed)
            } else {
                if buffer.capacity < bufferLimit { buffer.reserveCapacity(bufferLimit) }
                buffer.append(contentsOf: bytes)
            }
            bytesWritten += UInt64(bytes.count)
        } catch {
            failure = failure ?? error
            throw error
        }
    }

    func finish(header: [UInt8]) throws -> ImageDigest {
        do {
            if let reason = cancellation.cancelReason { throw BackupError(.createFailed, reason) }
            try flush()
            let upload = try startedUpload()
            try header.withUnsafeBytes { try upload.write($0, at: 0) }
            let digest = try readBackDigest(upload)
            if let reason = cancellation.cancelReason { throw BackupError(.createFailed, reason) }
            published = true
            try upload.complete()
            let info = try store.head(key)
            guard info.size == bytesWritten else {
                throw StorageError.io(
                    object: "\(store.displayName)/\(key)",
                    reason: "verification failed: the store holds \(info.size) bytes, expected \(bytesWritten)")
            }
            return .sha256(Array(digest))
        } catch {
            failure = failure ?? error
            throw error
        }
    }

    @discardableResult
    func abort() -> String? {
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
        let started = try store.startPositionedUpload(key, contentType: "application/vnd.squashfs", metadata: [:])
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

    // The header changes last, so the digest needs a second pass; the staged file is still in the
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
                throw StorageError.io(object: key, reason: "the staged image shrank while it was hashed")
            }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            offset += UInt64(n)
        }
        return hasher.finalize()
    }
}

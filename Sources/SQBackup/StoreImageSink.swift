import Crypto
import Foundation
import SquashWriter
import Storage
import Synchronization

/// An `ImageSink` that streams an image into an `ObjectStore` as a multipart upload, without a
/// temporary file.
///
/// The image is cut into equal parts (the last may be shorter, as R2 requires) which upload in
/// parallel as they fill, a few at a time. Part 1 holds the superblock, which is final only at the
/// end, so it is kept back and uploaded last (S3 assembles parts by number, not by arrival). An image
/// smaller than one part goes up in a single PUT. Memory: about (parts in flight + 2) × part size.
///
/// SHA-256 of the final image cannot be computed while streaming: its first 96 bytes change last and
/// the hash is sequential. A single PUT hashes its buffer and returns the exact SHA-256. A multipart
/// upload returns the composite SHA-256 of its parts (`CompositeSHA256`): each part is hashed as it
/// goes up, the store sends that hash signed so the server refuses a part that arrived damaged, and
/// nothing is downloaded again.
///
/// `@unchecked Sendable`: like every sink it is driven from the building thread only, and the builder's
/// progress callbacks (which call `plan` and read `bytesUploaded`) run on that same thread.
final class StoreImageSink: BackupImageSink, @unchecked Sendable {
    let store: any ObjectStore
    let key: String
    private let minimumPartSize: Int
    private let partsInFlight: Int
    private let cancellation: BackupCancellation
    private(set) var partSize: Int
    private var partSizeFixed = false
    private(set) var bytesWritten: UInt64 = 0
    private var current: [UInt8] = []
    private var firstPart: [UInt8]?
    private var nextPartNumber = 1
    private var uploadId: String?
    private var uploader: PartUploader?
    private var storedObject = false
    /// The store failure behind a failed write, kept because the builder rewraps sink errors.
    private(set) var failure: (any Error)?
    private let uploadedSinglePut = Atomic<UInt64>(0)

    init(
        store: any ObjectStore, key: String, minimumPartSize: Int, partsInFlight: Int,
        cancellation: BackupCancellation
    ) {
        self.store = store
        self.key = key
        self.minimumPartSize = max(minimumPartSize, 1)
        self.partsInFlight = max(1, partsInFlight)
        self.cancellation = cancellation
        self.partSize = self.minimumPartSize
    }

    /// Image bytes the store has acknowledged.
    var bytesUploaded: UInt64 { (uploader?.bytesUploaded ?? 0) + uploadedSinglePut.load(ordering: .relaxed) }

    /// Sizes parts from the scanned tree, before the first byte arrives: 10,000 parts (S3's limit)
    /// must cover the largest image the tree could give, with every block stored uncompressed.
    func plan(fileBytes: UInt64, files: Int, blockSize: Int) {
        guard !partSizeFixed else { return }
        partSize = Self.partSize(fileBytes: fileBytes, files: files, blockSize: blockSize, minimum: minimumPartSize)
    }

    static func partSize(fileBytes: UInt64, files: Int, blockSize: Int, minimum: Int) -> Int {
        let blocks = fileBytes / UInt64(max(blockSize, 4096)) + UInt64(files)
        // Data, a 4-byte size per block, inode + directory entry (with a long name) per file,
        // plus room for directories, fragments and tables.
        let worst = fileBytes + blocks * 4 + UInt64(files) * 512 + (64 << 20)
        let mebibyte: UInt64 = 1 << 20
        let perPart = (worst / 9_500 + mebibyte) / mebibyte * mebibyte
        return max(minimum, Int(perPart))
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        do {
            try append(bytes)
        } catch {
            failure = failure ?? error
            throw error
        }
    }

    private func append(_ bytes: UnsafeRawBufferPointer) throws {
        if let reason = cancellation.cancelReason { throw BackupError(.createFailed, reason) }
        partSizeFixed = true
        var offset = 0
        while offset < bytes.count {
            if current.capacity < partSize { current.reserveCapacity(partSize) }
            let take = min(partSize - current.count, bytes.count - offset)
            current.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + take]))
            offset += take
            if current.count == partSize { try cutPart() }
        }
        bytesWritten += UInt64(bytes.count)
    }

    func finish(header: [UInt8]) throws -> ImageDigest {
        do {
            return try complete(header: header)
        } catch {
            failure = failure ?? error
            throw error
        }
    }

    /// Removes whatever was uploaded: aborts the multipart upload and deletes the object if it was stored.
    /// Returns what could not be removed (the store's own retries already ran), or nil.
    @discardableResult
    func abort() -> String? {
        uploader?.drain()
        var leftovers: [String] = []
        if let uploadId {
            do {
                try store.abortMultipartUpload(key, uploadId: uploadId)
                self.uploadId = nil
            } catch StorageError.notFound {
                self.uploadId = nil
            } catch {
                leftovers.append("the multipart upload of \(key) could not be aborted (\(error))")
            }
        }
        if storedObject {
            do {
                try store.delete(key)
                storedObject = false
            } catch {
                leftovers.append("\(key) could not be deleted (\(error))")
            }
        }
        return leftovers.isEmpty ? nil : leftovers.joined(separator: "; ")
    }

    private func complete(header: [UInt8]) throws -> ImageDigest {
        if let reason = cancellation.cancelReason { throw BackupError(.createFailed, reason) }
        guard uploadId == nil && (firstPart == nil || current.isEmpty) else {
            return try completeMultipart(header: header)
        }
        // The whole image is in one buffer: a single PUT.
        var image = firstPart ?? current
        image.replaceSubrange(0..<header.count, with: header)
        firstPart = nil
        current = []
        storedObject = true
        try store.put(key, bytes: image, contentType: "application/vnd.squashfs")
        uploadedSinglePut.store(UInt64(image.count), ordering: .relaxed)
        try verifySize()
        return .sha256(Array(SHA256.hash(data: image)))
    }

    private func completeMultipart(header: [UInt8]) throws -> ImageDigest {
        guard var first = firstPart else { throw BackupError(.createFailed, "internal: no first part") }
        let uploader = try startedUploader()
        if !current.isEmpty {
            try uploader.submit(nextPartNumber, current)
            nextPartNumber += 1
            current = []
        }
        first.replaceSubrange(0..<header.count, with: header)
        firstPart = nil
        try uploader.submit(1, first)
        let (parts, digests) = try uploader.finish()
        guard parts.count == nextPartNumber - 1, digests.count == parts.count else {
            throw BackupError(
                .createFailed, "internal: \(parts.count) parts uploaded, \(nextPartNumber - 1) cut")
        }
        if let reason = cancellation.cancelReason { throw BackupError(.createFailed, reason) }
        guard let uploadId else { throw BackupError(.createFailed, "internal: no upload id") }
        storedObject = true
        try store.completeMultipartUpload(key, uploadId: uploadId, parts: parts)
        self.uploadId = nil
        try verifySize()
        return .composite(CompositeSHA256(partSize: partSize, partDigests: digests))
    }

    private func cutPart() throws {
        if nextPartNumber == 1 {
            firstPart = current
        } else {
            guard nextPartNumber <= 10_000 else {
                throw BackupError(
                    .createFailed,
                    "the image outgrew 10,000 parts of \(partSize) bytes (the tree grew while it was read)")
            }
            try startedUploader().submit(nextPartNumber, current)
        }
        nextPartNumber += 1
        current = []
    }

    private func startedUploader() throws -> PartUploader {
        if let uploader { return uploader }
        let id = try store.createMultipartUpload(key, contentType: "application/vnd.squashfs", metadata: [:])
        uploadId = id
        let uploader = PartUploader(
            store: store, key: key, uploadId: id, width: partsInFlight, cancellation: cancellation)
        self.uploader = uploader
        return uploader
    }

    private func verifySize() throws {
        let info = try store.head(key)
        guard info.size == bytesWritten else {
            throw StorageError.io(
                object: "\(store.displayName)/\(key)",
                reason: "upload verification failed: the store holds \(info.size) bytes, expected \(bytesWritten)")
        }
    }
}

import Crypto
import Foundation
import Synchronization

/// A `SequentialObjectWriter` that streams an object into an `ObjectStore` as a multipart upload,
/// without a temporary file.
///
/// The object is cut into equal parts (the last may be shorter, as R2 requires) which upload in
/// parallel as they fill, a few at a time. Part 1 holds the first bytes, which are final only at the
/// end, so it is kept back and uploaded last (S3 assembles parts by number, not by arrival). An object
/// smaller than one part goes up in a single PUT. Memory: about (parts in flight + 2) × part size.
///
/// SHA-256 of the final object cannot be computed while streaming: its first bytes change last and
/// the hash is sequential. A single PUT hashes its buffer and returns the exact SHA-256. A multipart
/// upload returns the SHA-256 of each part: each part is hashed as it goes up, the store sends that
/// hash signed so the server refuses a part that arrived damaged, and nothing is downloaded again.
///
/// `@unchecked Sendable`: driven from one thread only, and the progress callbacks that call `plan`
/// and read `bytesStored` run on that same thread.
public final class MultipartObjectWriter: SequentialObjectWriter, @unchecked Sendable {
    /// S3's limit on the parts of one upload.
    public static let maximumParts = 10_000

    public let store: any ObjectStore
    public let key: String
    private let contentType: String?
    private let minimumPartSize: Int
    private let partsInFlight: Int
    private let cancellation: CancellationFlag
    public private(set) var partSize: Int
    private var partSizeFixed = false
    public private(set) var bytesWritten: UInt64 = 0
    private var current: [UInt8] = []
    private var firstPart: [UInt8]?
    private var nextPartNumber = 1
    private var uploadId: String?
    private var uploader: PartUploader?
    private var storedObject = false
    private let uploadedSinglePut = Atomic<UInt64>(0)

    /// Parts are `minimumPartSize` bytes until `plan` asks for larger ones; at most `partsInFlight`
    /// upload at once.
    public init(
        store: any ObjectStore, key: String, contentType: String?, minimumPartSize: Int, partsInFlight: Int,
        cancellation: CancellationFlag
    ) {
        self.store = store
        self.key = key
        self.contentType = contentType
        self.minimumPartSize = max(minimumPartSize, 1)
        self.partsInFlight = max(1, partsInFlight)
        self.cancellation = cancellation
        self.partSize = self.minimumPartSize
    }

    public var bytesStored: UInt64 {
        (uploader?.bytesUploaded ?? 0) + uploadedSinglePut.load(ordering: .relaxed)
    }

    /// Sizes parts so that 10,000 of them cover `maximumSize`; ignored once the first byte arrived.
    public func plan(maximumSize: UInt64) {
        guard !partSizeFixed else { return }
        partSize = Self.partSize(maximumSize: maximumSize, minimum: minimumPartSize)
    }

    /// Whole mebibytes, with 5% of the 10,000 parts to spare, and at least `minimum`.
    public static func partSize(maximumSize: UInt64, minimum: Int) -> Int {
        let mebibyte: UInt64 = 1 << 20
        let perPart = (maximumSize / 9_500 + mebibyte) / mebibyte * mebibyte
        return max(minimum, Int(perPart))
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try cancellation.check()
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

    public func finish(replacingPrefixWith header: [UInt8]) throws -> UploadDigest {
        try cancellation.check()
        guard uploadId == nil && (firstPart == nil || current.isEmpty) else {
            return try completeMultipart(header: header)
        }
        // The whole object is in one buffer: a single PUT.
        var object = firstPart ?? current
        try Self.replacePrefix(of: &object, with: header, key: key)
        firstPart = nil
        current = []
        storedObject = true
        try store.put(key, bytes: object, contentType: contentType)
        uploadedSinglePut.store(UInt64(object.count), ordering: .relaxed)
        try verifySize()
        return .sha256(Array(SHA256.hash(data: object)))
    }

    @discardableResult
    public func abort() -> String? {
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

    private func completeMultipart(header: [UInt8]) throws -> UploadDigest {
        guard var first = firstPart else { throw internalError("no first part") }
        let uploader = try startedUploader()
        if !current.isEmpty {
            try uploader.submit(nextPartNumber, current)
            nextPartNumber += 1
            current = []
        }
        try Self.replacePrefix(of: &first, with: header, key: key)
        firstPart = nil
        try uploader.submit(1, first)
        let (parts, digests) = try uploader.finish()
        guard parts.count == nextPartNumber - 1, digests.count == parts.count else {
            throw internalError("\(parts.count) parts uploaded, \(nextPartNumber - 1) cut")
        }
        try cancellation.check()
        guard let uploadId else { throw internalError("no upload id") }
        storedObject = true
        try store.completeMultipartUpload(key, uploadId: uploadId, parts: parts)
        self.uploadId = nil
        try verifySize()
        return .parts(partSize: partSize, sha256s: digests)
    }

    private func cutPart() throws {
        if nextPartNumber == 1 {
            firstPart = current
        } else {
            guard nextPartNumber <= Self.maximumParts else {
                throw StorageError.tooManyParts(object: "\(store.displayName)/\(key)", partSize: partSize)
            }
            try startedUploader().submit(nextPartNumber, current)
        }
        nextPartNumber += 1
        current = []
    }

    private func startedUploader() throws -> PartUploader {
        if let uploader { return uploader }
        let id = try store.createMultipartUpload(key, contentType: contentType, metadata: [:])
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

    private static func replacePrefix(of bytes: inout [UInt8], with header: [UInt8], key: String) throws {
        guard header.count <= bytes.count else {
            throw StorageError.io(
                object: key, reason: "internal: a \(header.count)-byte header for a \(bytes.count)-byte first part")
        }
        bytes.replaceSubrange(0..<header.count, with: header)
    }

    private func internalError(_ what: String) -> StorageError {
        StorageError.io(object: key, reason: "internal: \(what)")
    }
}

import Foundation
import Storage

extension InMemoryObjectStore {
    /// The uploads started and neither completed nor aborted, outside the log and the schedule.
    public var pendingUploads: [MultipartUpload] {
        state.withLock { state in
            state.uploads.map { MultipartUpload(key: $0.value.key, uploadId: $0.key, initiated: $0.value.initiated) }
        }.sorted { ($0.initiated ?? .distantPast, $0.uploadId) < ($1.initiated ?? .distantPast, $1.uploadId) }
    }

    public func createMultipartUpload(_ key: String, contentType: String?, metadata: [String: String]) throws -> String
    {
        try script.perform(StoreRequest(operation: .createMultipartUpload, key: key)) { _ in
            let id = state.withLock { state in
                let id = "upload-" + state.newTag()
                state.uploads[id] = PendingUpload(key: key, initiated: state.now, metadata: Self.lowercased(metadata))
                return id
            }
            return (id, 0)
        }
    }

    public func uploadPart(_ key: String, uploadId: String, partNumber: Int, bytes: [UInt8]) throws -> String {
        let request = StoreRequest(operation: .uploadPart, key: key, partNumber: partNumber, bytes: bytes.count)
        return try script.perform(request) { keeping in
            guard (1...10_000).contains(partNumber) else {
                throw StorageError.io(
                    object: key, reason: "InvalidArgument: part number \(partNumber) is not in 1...10000")
            }
            let stored = Array(bytes.prefix(keeping ?? .max))
            let etag = try state.withLock { state in
                guard state.uploads[uploadId]?.key == key else { throw StorageError.notFound(object: key) }
                let etag = state.newTag()
                state.uploads[uploadId]?.parts[partNumber] = (stored, etag)
                return etag
            }
            return (etag, bytes.count)
        }
    }

    @discardableResult
    public func completeMultipartUpload(_ key: String, uploadId: String, parts: [CompletedPart]) throws -> String {
        try script.perform(StoreRequest(operation: .completeMultipartUpload, key: key), changeETag: changer(key)) {
            _ in
            let etag = try state.withLock { state in
                guard let upload = state.uploads[uploadId], upload.key == key else {
                    throw StorageError.notFound(object: key)
                }
                let bytes = try joined(parts, of: upload, key: key)
                let etag = state.newTag() + "-\(parts.count)"
                state.objects[key] = StoredObject(
                    bytes: bytes, etag: etag, lastModified: state.now, metadata: upload.metadata)
                state.uploads[uploadId] = nil
                return etag
            }
            return (etag, 0)
        }
    }

    public func abortMultipartUpload(_ key: String, uploadId: String) throws {
        try script.perform(StoreRequest(operation: .abortMultipartUpload, key: key)) { _ in
            try state.withLock { state in
                guard state.uploads[uploadId]?.key == key else { throw StorageError.notFound(object: key) }
                state.uploads[uploadId] = nil
            }
            return ((), 0)
        }
    }

    public func listMultipartUploads(prefix: String) throws -> [MultipartUpload] {
        try script.perform(StoreRequest(operation: .listMultipartUploads, key: prefix)) { _ in
            (pendingUploads.filter { $0.key.hasPrefix(prefix) }, 0)
        }
    }

    /// The object `parts` make, checked as S3 checks them at completion.
    private func joined(_ parts: [CompletedPart], of upload: PendingUpload, key: String) throws -> [UInt8] {
        guard !parts.isEmpty else {
            throw StorageError.io(object: key, reason: "MalformedXML: a multipart upload needs at least one part")
        }
        var bytes: [UInt8] = []
        for (index, part) in parts.enumerated() {
            if index > 0 && part.partNumber <= parts[index - 1].partNumber {
                throw StorageError.io(object: key, reason: "InvalidPartOrder: part numbers must ascend")
            }
            guard let stored = upload.parts[part.partNumber], stored.etag == part.etag else {
                throw StorageError.io(object: key, reason: "InvalidPart: part \(part.partNumber) was not uploaded")
            }
            if index < parts.count - 1 && stored.bytes.count < minimumPartSize {
                throw StorageError.io(
                    object: key,
                    reason: "EntityTooSmall: part \(part.partNumber) is smaller than \(minimumPartSize) bytes")
            }
            bytes += stored.bytes
        }
        return bytes
    }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension LocalDirectoryStore: PositionedWriteStore {
    public func startPositionedUpload(_ key: String, contentType: String?, metadata: [String: String]) throws
        -> any PositionedUpload
    {
        // A multipart upload's staging directory and manifest, so listing, abort and prune treat it
        // like one; the object itself is one file in it instead of part files.
        let uploadId = try createMultipartUpload(key, contentType: contentType, metadata: metadata)
        let staging = stagingPath(uploadId)
        let file = staging + "/" + LocalPositionedUpload.objectFile
        let fd = open(file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let error = posixError(key, path: file, doing: "create")
            try? abortMultipartUpload(key, uploadId: uploadId)
            throw error
        }
        return LocalPositionedUpload(store: self, key: key, uploadId: uploadId, staging: staging, fd: fd)
    }
}

/// A `PositionedUpload` into a `LocalDirectoryStore`: `pwrite` into a file in the upload's staging
/// directory, then `fsync` and `rename` into place (same file system, so the rename is atomic).
final class LocalPositionedUpload: PositionedUpload {
    static let objectFile = "object"

    let key: String
    let uploadId: String
    private let store: LocalDirectoryStore
    private let staging: String
    private var fd: Int32
    private var finished = false

    init(store: LocalDirectoryStore, key: String, uploadId: String, staging: String, fd: Int32) {
        self.store = store
        self.key = key
        self.uploadId = uploadId
        self.staging = staging
        self.fd = fd
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        let fd = try openDescriptor()
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw store.posixError(key, path: key, doing: "write")
            }
            done += n
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        let fd = try openDescriptor()
        while true {
            let n = pread(fd, buffer.baseAddress!, buffer.count, off_t(offset))
            if n >= 0 { return n }
            if errno != EINTR { throw store.posixError(key, path: key, doing: "read") }
        }
    }

    @discardableResult
    func complete() throws -> String {
        let fd = try openDescriptor()
        let manifest = try store.readManifest(staging, key: key)
        if !manifest.metadata.isEmpty {
            let encoded = Array(try JSONEncoder().encode(manifest.metadata))
            guard ExtendedAttributes.set(fd, name: LocalDirectoryStore.metadataAttribute, value: encoded) else {
                throw store.posixError(key, path: key, doing: "store metadata (extended attributes)")
            }
        }
        guard fsync(fd) == 0 else { throw store.posixError(key, path: key, doing: "fsync") }
        close(fd)
        self.fd = -1
        let path = try store.path(for: key)
        let directory = (path as NSString).deletingLastPathComponent
        try LocalDirectoryStore.makeDirectories(directory)
        guard rename(staging + "/" + Self.objectFile, path) == 0 else {
            if errno == EISDIR {
                throw StorageError.io(object: key, reason: "a key with this name as its prefix exists (\(key)/…)")
            }
            throw store.posixError(key, path: key, doing: "rename")
        }
        finished = true
        LocalDirectoryStore.syncDirectory(directory)
        // The object is in place; a staging directory left over is an empty upload that prune removes.
        try? store.abortMultipartUpload(key, uploadId: uploadId)
        return try store.head(key).etag
    }

    func abort() throws {
        guard !finished else { return }
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        finished = true
        do {
            try store.abortMultipartUpload(key, uploadId: uploadId)
        } catch StorageError.notFound {
            // Already gone: nothing to discard.
        }
    }

    private func openDescriptor() throws -> Int32 {
        guard fd >= 0, !finished else {
            throw StorageError.io(object: key, reason: "the upload \(uploadId) is already completed or aborted")
        }
        return fd
    }
}

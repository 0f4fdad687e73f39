import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An `ObjectStore` in a local directory, with the same key layout as a bucket.
///
/// Keys map to relative paths. Writes go to a temporary file that is fsynced and renamed
/// into place, so readers see the old or the new object, never a mix. Multipart uploads
/// are staged under `.multipart/<uploadId>/` and joined the same way; a positioned upload
/// (`PositionedWriteStore`) is one file there, renamed into place without a copy. A key cannot be both
/// an object and a "directory" prefix of another key (`a` and `a/b`), unlike in S3.
public final class LocalDirectoryStore: ObjectStore {
    /// The directory that holds the objects.
    public let root: String
    /// Smallest size of every part but the last, as S3 and R2 enforce it.
    public let minimumPartSize: Int

    static let stagingDirectory = ".multipart"
    static let temporaryMarker = ".sqb-tmp-"
    static let metadataAttribute = "user.sqbackup.metadata"

    /// Opens (and creates) a store rooted at `root`.
    public init(root: String, minimumPartSize: Int = 5 * 1024 * 1024) throws {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        self.minimumPartSize = minimumPartSize
        try Self.makeDirectories(self.root)
    }

    /// `$XDG_DATA_HOME/sqbackup`, else `$HOME/.local/share/sqbackup`, from `environment`.
    public static func defaultRoot(environment: [String: String]) throws -> String {
        if let data = environment["XDG_DATA_HOME"], data.hasPrefix("/") {
            return data + "/sqbackup"
        }
        guard let home = environment["HOME"], home.hasPrefix("/") else {
            throw StorageError.invalidConfiguration(
                reason: "no local store directory: set SQBACKUP_STORE_DIR, XDG_DATA_HOME or HOME")
        }
        return (home.hasSuffix("/") ? String(home.dropLast()) : home) + "/.local/share/sqbackup"
    }

    public var displayName: String { "file://\(root)" }

    // MARK: Objects

    public func head(_ key: String) throws -> ObjectInfo {
        let path = try self.path(for: key)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw posixError(key, path: path) }
        defer { close(fd) }
        var info = try statFile(fd, key: key)
        info.metadata = readMetadata(fd)
        return info
    }

    public func get(_ key: String, range: ByteRange?, ifMatch: String?) throws -> [UInt8] {
        let path = try self.path(for: key)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw posixError(key, path: path) }
        defer { close(fd) }
        let info = try statFile(fd, key: key)
        if let ifMatch, ifMatch != info.etag {
            throw StorageError.changed(object: key, reason: "ETag \(info.etag), expected \(ifMatch)")
        }
        let range = range ?? ByteRange(offset: 0, length: Int(info.size))
        guard range.length >= 0, range.offset <= info.size, UInt64(range.length) <= info.size - range.offset else {
            throw StorageError.outOfRange(object: key, range: range, size: info.size)
        }
        return try readFully(fd, range: range, key: key)
    }

    @discardableResult
    public func put(_ key: String, bytes: [UInt8], contentType: String?, metadata: [String: String]) throws -> String {
        let path = try self.path(for: key)
        try writeAtomically(to: path, key: key, metadata: metadata) { fd in
            try writeAll(fd, bytes, key: key)
        }
        return try head(key).etag
    }

    public func delete(_ key: String) throws {
        let path = try self.path(for: key)
        // A directory is a prefix, not an object: like a missing key, nothing to delete.
        if unlink(path) != 0 && errno != ENOENT && errno != ENOTDIR && errno != EISDIR {
            throw posixError(key, path: path)
        }
        removeEmptyParents(of: path)
    }

    public func list(prefix: String, continuationToken: String?, maxKeys: Int) throws -> ObjectListing {
        guard maxKeys > 0 else { throw StorageError.invalidConfiguration(reason: "maxKeys must be positive") }
        var keys: [String] = []
        collectKeys(directory: root, relative: "", prefix: prefix, into: &keys)
        keys.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        if let continuationToken {
            let after = Array(continuationToken.utf8)
            keys.removeAll { !after.lexicographicallyPrecedes(Array($0.utf8)) }
        }
        var objects: [ObjectInfo] = []
        for key in keys {
            if objects.count == maxKeys { break }
            let fd = open(root + "/" + key, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }  // deleted while listing
            defer { close(fd) }
            if let info = try? statFile(fd, key: key) { objects.append(info) }
        }
        let truncated = objects.count == maxKeys && keys.count > maxKeys
        return ObjectListing(objects: objects, nextContinuationToken: truncated ? objects.last?.key : nil)
    }

    // MARK: Multipart

    public func createMultipartUpload(_ key: String, contentType: String?, metadata: [String: String]) throws -> String
    {
        _ = try path(for: key)
        let uploadId = (0..<2).map { _ in String(UInt64.random(in: .min ... .max), radix: 16) }
            .map { String(repeating: "0", count: 16 - $0.count) + $0 }.joined()
        let staging = stagingPath(uploadId)
        try Self.makeDirectories(staging)
        let manifest = UploadManifest(key: key, initiated: Date(), metadata: metadata)
        let data = try JSONEncoder().encode(manifest)
        try writeAtomically(to: staging + "/upload.json", key: key, metadata: [:]) { fd in
            try writeAll(fd, Array(data), key: key)
        }
        return uploadId
    }

    public func uploadPart(_ key: String, uploadId: String, partNumber: Int, bytes: [UInt8]) throws -> String {
        guard (1...10_000).contains(partNumber) else {
            throw StorageError.io(object: key, reason: "InvalidArgument: part number \(partNumber) is not in 1...10000")
        }
        let staging = try checkedStaging(key, uploadId: uploadId)
        let partPath = staging + "/\(partNumber)"
        try writeAtomically(to: partPath, key: key, metadata: [:]) { fd in
            try writeAll(fd, bytes, key: key)
        }
        let fd = open(partPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw posixError(key, path: partPath) }
        defer { close(fd) }
        return try statFile(fd, key: key).etag
    }

    @discardableResult
    public func completeMultipartUpload(_ key: String, uploadId: String, parts: [CompletedPart]) throws -> String {
        let staging = try checkedStaging(key, uploadId: uploadId)
        let manifest = try readManifest(staging, key: key)
        guard !parts.isEmpty else {
            throw StorageError.io(object: key, reason: "MalformedXML: a multipart upload needs at least one part")
        }
        var partFiles: [(fd: Int32, size: UInt64)] = []
        defer { for part in partFiles { close(part.fd) } }
        for (index, part) in parts.enumerated() {
            if index > 0 && part.partNumber <= parts[index - 1].partNumber {
                throw StorageError.io(object: key, reason: "InvalidPartOrder: part numbers must ascend")
            }
            let partPath = staging + "/\(part.partNumber)"
            let fd = open(partPath, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                throw StorageError.io(object: key, reason: "InvalidPart: part \(part.partNumber) was not uploaded")
            }
            partFiles.append((fd, 0))
            let info = try statFile(fd, key: key)
            guard info.etag == part.etag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) else {
                throw StorageError.io(object: key, reason: "InvalidPart: part \(part.partNumber) has another ETag")
            }
            if index < parts.count - 1 && info.size < UInt64(minimumPartSize) {
                throw StorageError.io(
                    object: key,
                    reason: "EntityTooSmall: part \(part.partNumber) is smaller than \(minimumPartSize) bytes")
            }
            partFiles[partFiles.count - 1].size = info.size
        }
        try writeAtomically(to: try path(for: key), key: key, metadata: manifest.metadata) { fd in
            for part in partFiles {
                var offset: UInt64 = 0
                while offset < part.size {
                    let length = Int(min(part.size - offset, 8 * 1024 * 1024))
                    try writeAll(
                        fd, try readFully(part.fd, range: ByteRange(offset: offset, length: length), key: key), key: key
                    )
                    offset += UInt64(length)
                }
            }
        }
        try removeTree(staging)
        return try head(key).etag
    }

    public func abortMultipartUpload(_ key: String, uploadId: String) throws {
        try removeTree(try checkedStaging(key, uploadId: uploadId))
    }

    public func listMultipartUploads(prefix: String) throws -> [MultipartUpload] {
        let base = root + "/" + Self.stagingDirectory
        guard let ids = try? FileManager.default.contentsOfDirectory(atPath: base) else { return [] }
        return ids.compactMap { id -> MultipartUpload? in
            guard let manifest = try? readManifest(base + "/" + id, key: id), manifest.key.hasPrefix(prefix) else {
                return nil
            }
            return MultipartUpload(key: manifest.key, uploadId: id, initiated: manifest.initiated)
        }.sorted { ($0.initiated ?? .distantPast, $0.uploadId) < ($1.initiated ?? .distantPast, $1.uploadId) }
    }

    // MARK: Paths

    /// The file for `key`; refuses keys that could leave the root or hit our own files.
    func path(for key: String) throws -> String {
        let components = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.isEmpty, !key.utf8.contains(0),
            components.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }),
            components.first != Substring(Self.stagingDirectory),
            !key.contains(Self.temporaryMarker)
        else {
            throw StorageError.invalidConfiguration(
                reason: "key \"\(key)\" is not storable locally (empty, absolute, \".\" or \"..\" components)")
        }
        return root + "/" + key
    }

    func stagingPath(_ uploadId: String) -> String {
        root + "/" + Self.stagingDirectory + "/" + uploadId
    }

    private func checkedStaging(_ key: String, uploadId: String) throws -> String {
        guard !uploadId.isEmpty, uploadId.allSatisfy({ $0.isHexDigit }) else {
            throw StorageError.notFound(object: "\(key) (upload \(uploadId))")
        }
        let staging = stagingPath(uploadId)
        guard let manifest = try? readManifest(staging, key: key), manifest.key == key else {
            throw StorageError.notFound(object: "\(key) (upload \(uploadId))")
        }
        return staging
    }

    func readManifest(_ staging: String, key: String) throws -> UploadManifest {
        guard let data = FileManager.default.contents(atPath: staging + "/upload.json") else {
            throw StorageError.notFound(object: "\(key) (upload)")
        }
        return try JSONDecoder().decode(UploadManifest.self, from: data)
    }

    private func collectKeys(directory: String, relative: String, prefix: String, into keys: inout [String]) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names {
            if relative.isEmpty && name == Self.stagingDirectory { continue }
            if name.contains(Self.temporaryMarker) { continue }
            let key = relative + name
            // Only descend where the prefix can still match.
            guard key.hasPrefix(prefix) || prefix.hasPrefix(key) else { continue }
            var info = stat()
            guard lstat(directory + "/" + name, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                collectKeys(directory: directory + "/" + name, relative: key + "/", prefix: prefix, into: &keys)
            case S_IFREG: if key.hasPrefix(prefix) { keys.append(key) }
            default: continue
            }
        }
    }

    private func removeEmptyParents(of path: String) {
        var directory = (path as NSString).deletingLastPathComponent
        while directory.count > root.count && directory.hasPrefix(root + "/") {
            guard rmdir(directory) == 0 else { return }
            directory = (directory as NSString).deletingLastPathComponent
        }
    }

    private func removeTree(_ path: String) throws {
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw StorageError.io(object: path, reason: "cannot remove: \(error.localizedDescription)")
        }
    }

    static func makeDirectories(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw StorageError.io(object: path, reason: "cannot create directory: \(error.localizedDescription)")
        }
    }

    // MARK: Files

    /// Writes through a temporary file in the same directory, fsyncs, then renames into place.
    private func writeAtomically(
        to path: String, key: String, metadata: [String: String], _ body: (Int32) throws -> Void
    ) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try Self.makeDirectories(directory)
        let temporary = directory + "/" + Self.temporaryMarker + String(UInt64.random(in: .min ... .max), radix: 36)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw posixError(key, path: temporary) }
        var renamed = false
        defer {
            if !renamed { unlink(temporary) }
        }
        do {
            defer { close(fd) }
            try body(fd)
            if !metadata.isEmpty {
                let encoded = Array(try JSONEncoder().encode(metadata))
                guard ExtendedAttributes.set(fd, name: Self.metadataAttribute, value: encoded) else {
                    throw posixError(key, path: temporary, doing: "store metadata (extended attributes)")
                }
            }
            guard fsync(fd) == 0 else { throw posixError(key, path: temporary, doing: "fsync") }
        }
        guard rename(temporary, path) == 0 else {
            if errno == EISDIR {
                throw StorageError.io(object: key, reason: "a key with this name as its prefix exists (\(key)/…)")
            }
            throw posixError(key, path: path, doing: "rename")
        }
        renamed = true
        Self.syncDirectory(directory)
    }

    /// Makes a rename into `directory` durable.
    static func syncDirectory(_ directory: String) {
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }

    private func statFile(_ fd: Int32, key: String) throws -> ObjectInfo {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw posixError(key, path: key) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw StorageError.notFound(object: key) }
        let nanoseconds = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        // Size, mtime and inode change together with any atomic replacement.
        let etag = [UInt64(info.st_size), UInt64(bitPattern: nanoseconds), UInt64(info.st_ino)]
            .map { String($0, radix: 16) }.joined(separator: "-")
        return ObjectInfo(
            key: key, size: UInt64(info.st_size), etag: etag,
            lastModified: Date(timeIntervalSince1970: Double(nanoseconds) / 1e9))
    }

    private func readMetadata(_ fd: Int32) -> [String: String] {
        guard let value = ExtendedAttributes.get(fd, name: Self.metadataAttribute), !value.isEmpty else { return [:] }
        return (try? JSONDecoder().decode([String: String].self, from: Data(value))) ?? [:]
    }

    private func readFully(_ fd: Int32, range: ByteRange, key: String) throws -> [UInt8] {
        try PositionedRead.bytes(
            fd, range, failed: { posixError(key, path: key, doing: "read") },
            ended: { StorageError.outOfRange(object: key, range: range, size: $0) })
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8], key: String) throws {
        try bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = write(fd, buffer.baseAddress! + done, buffer.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw posixError(key, path: key, doing: "write")
                }
                done += n
            }
        }
    }

    func posixError(_ key: String, path: String, doing action: String? = nil) -> StorageError {
        let code = errno
        if action == nil && (code == ENOENT || code == ENOTDIR || code == EISDIR) {
            return StorageError.notFound(object: key)
        }
        let what = action.map { "\($0): " } ?? ""
        return StorageError.io(object: key, reason: what + String(cString: strerror(code)))
    }
}

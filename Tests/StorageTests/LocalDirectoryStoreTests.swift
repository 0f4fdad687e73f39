import Foundation
import Storage
import TestSupport
import Testing

/// What is particular to the local store: its key rules, its files on disk and its defaults.
@Suite("LocalDirectoryStore")
struct LocalDirectoryStoreTests {
    let directory: TemporaryDirectory
    let store: LocalDirectoryStore

    init() throws {
        directory = try TemporaryDirectory("local-store")
        store = try LocalDirectoryStore(root: directory.path, minimumPartSize: 4)
    }

    func files() -> [String] {
        (FileManager.default.enumerator(atPath: directory.path)?.allObjects as? [String] ?? []).sorted()
    }

    @Test func keysMapToRelativePaths() throws {
        defer { directory.remove() }
        try store.put("backups/0b1c/data.sqsh", bytes: [1, 2, 3])
        try store.put("backups/0b1c/meta.json", bytes: Array("{}".utf8))
        #expect(files() == ["backups", "backups/0b1c", "backups/0b1c/data.sqsh", "backups/0b1c/meta.json"])
        #expect(FileManager.default.contents(atPath: directory.child("backups/0b1c/data.sqsh")) == Data([1, 2, 3]))
        try store.delete("backups")  // a prefix, not an object: nothing happens, as in S3
        #expect(files().count == 4)
        try store.delete("backups/0b1c/data.sqsh")
        try store.delete("backups/0b1c/meta.json")
        #expect(files().isEmpty, "empty parent directories go away with their last object")
    }

    @Test("a positioned upload: written at any offset, a multipart upload until complete, then renamed in place")
    func positionedUpload() throws {
        defer { directory.remove() }
        let upload = try store.startPositionedUpload(
            "backups/a/data.sqsh", contentType: nil, metadata: ["origin": "test"])
        try [UInt8](repeating: 7, count: 10).withUnsafeBytes { try upload.write($0, at: 4) }
        try [UInt8]([1, 2, 3, 4]).withUnsafeBytes { try upload.write($0, at: 0) }
        var buffer = [UInt8](repeating: 0, count: 20)
        let read = try buffer.withUnsafeMutableBytes { try upload.read(into: $0, at: 2) }
        #expect(read == 12 && Array(buffer[0..<4]) == [3, 4, 7, 7])
        #expect(try store.listMultipartUploads(prefix: "backups/").map(\.uploadId) == [upload.uploadId])
        #expect(try store.listAll(prefix: "").isEmpty, "nothing is listed before completion")
        #expect(throws: StorageError.self) { try store.head("backups/a/data.sqsh") }

        try upload.complete()
        #expect(try store.get("backups/a/data.sqsh") == [1, 2, 3, 4] + [UInt8](repeating: 7, count: 10))
        #expect(try store.head("backups/a/data.sqsh").metadata == ["origin": "test"])
        #expect(try store.listMultipartUploads(prefix: "").isEmpty)
        #expect(files().filter { $0.hasPrefix(".multipart/") } == [])
        try upload.abort()  // after completion: nothing to discard
        #expect(try store.head("backups/a/data.sqsh").size == 14)
        #expect(throws: StorageError.self) { try [UInt8]([1]).withUnsafeBytes { try upload.write($0, at: 0) } }
    }

    @Test("an aborted positioned upload leaves no file, and a stale one is aborted like any upload")
    func positionedUploadAbort() throws {
        defer { directory.remove() }
        let upload = try store.startPositionedUpload("backups/b/data.sqsh", contentType: nil, metadata: [:])
        try [UInt8](repeating: 1, count: 100).withUnsafeBytes { try upload.write($0, at: 0) }
        try upload.abort()
        #expect(files().filter { !$0.hasSuffix(".multipart") } == [])
        #expect(throws: StorageError.self) { try upload.complete() }
        #expect(try store.listAll(prefix: "").isEmpty)

        // A process killed mid-write leaves a staged upload; prune-style cleanup goes through the
        // multipart API.
        let stale = try store.startPositionedUpload("backups/c/data.sqsh", contentType: nil, metadata: [:])
        try [UInt8](repeating: 2, count: 100).withUnsafeBytes { try stale.write($0, at: 0) }
        for pending in try store.listMultipartUploads(prefix: "backups/") {
            try store.abortMultipartUpload(pending.key, uploadId: pending.uploadId)
        }
        #expect(files().filter { !$0.hasSuffix(".multipart") } == [])
    }

    @Test func refusesKeysThatEscapeOrCollide() throws {
        defer { directory.remove() }
        for key in ["", "/abs", "a//b", "../x", "a/../b", "a/./b", "a/", ".multipart/x", "x.sqb-tmp-1"] {
            #expect(throws: StorageError.self, "key \(key)") { try store.put(key, bytes: [1]) }
            #expect(throws: StorageError.self, "key \(key)") { try store.head(key) }
        }
        #expect(files().isEmpty)
    }

    @Test func writesLeaveNoTemporaryFiles() throws {
        defer { directory.remove() }
        for round in 0..<5 { try store.put("k/v", bytes: [UInt8(round)]) }
        #expect(files() == ["k", "k/v"])
        #expect(try store.get("k/v") == [4])
    }

    @Test func etagFollowsTheContentVersion() throws {
        defer { directory.remove() }
        let first = try store.put("e", bytes: [1, 2, 3])
        #expect(try store.head("e").etag == first)
        #expect(try store.head("e").etag == first, "stable while unchanged")
        let second = try store.put("e", bytes: [1, 2, 3])
        #expect(second != first, "a rewrite with equal bytes is a new version")
        #expect(throws: StorageError.changed(object: "e", reason: "ETag \(second), expected \(first)")) {
            try store.get("e", range: ByteRange(offset: 0, length: 1), ifMatch: first)
        }
    }

    @Test func multipartStagesUnderItsOwnDirectory() throws {
        defer { directory.remove() }
        let uploadId = try store.createMultipartUpload("big/object", contentType: nil, metadata: ["a": "b"])
        let etag1 = try store.uploadPart("big/object", uploadId: uploadId, partNumber: 1, bytes: [1, 2, 3, 4])
        let etag2 = try store.uploadPart("big/object", uploadId: uploadId, partNumber: 2, bytes: [5])
        #expect(files().contains(".multipart/\(uploadId)/1"))
        #expect(try store.list(prefix: "").objects.isEmpty, "staged parts are not objects")
        let initiated = try #require(try store.listMultipartUploads(prefix: "big/").first?.initiated)
        #expect(abs(initiated.timeIntervalSinceNow) < 60)
        #expect(throws: StorageError.self) {
            try store.uploadPart("other/key", uploadId: uploadId, partNumber: 3, bytes: [1])
        }
        #expect(throws: StorageError.self) {
            try store.uploadPart("big/object", uploadId: uploadId, partNumber: 0, bytes: [1])
        }
        #expect(throws: StorageError.self, "parts must ascend") {
            try store.completeMultipartUpload(
                "big/object", uploadId: uploadId,
                parts: [CompletedPart(partNumber: 2, etag: etag2), CompletedPart(partNumber: 1, etag: etag1)])
        }
        try store.completeMultipartUpload(
            "big/object", uploadId: uploadId,
            parts: [CompletedPart(partNumber: 1, etag: "\"\(etag1)\""), CompletedPart(partNumber: 2, etag: etag2)])
        #expect(try store.get("big/object") == [1, 2, 3, 4, 5])
        #expect(try store.head("big/object").metadata == ["a": "b"])
        #expect(!files().contains { $0.hasPrefix(".multipart/\(uploadId)") })
        #expect(throws: StorageError.self) { try store.abortMultipartUpload("big/object", uploadId: uploadId) }
    }

    @Test func defaultRootFollowsXDG() throws {
        defer { directory.remove() }
        #expect(
            try LocalDirectoryStore.defaultRoot(environment: ["XDG_DATA_HOME": "/x/data", "HOME": "/h"])
                == "/x/data/sqbackup")
        #expect(try LocalDirectoryStore.defaultRoot(environment: ["HOME": "/h/"]) == "/h/.local/share/sqbackup")
        #expect(
            try LocalDirectoryStore.defaultRoot(environment: ["XDG_DATA_HOME": "relative", "HOME": "/h"])
                == "/h/.local/share/sqbackup")
        #expect(throws: StorageError.self) { try LocalDirectoryStore.defaultRoot(environment: [:]) }
    }

    @Test func concurrentWritersNeverExposeMixedContent() throws {
        defer { directory.remove() }
        let versions = (0..<4).map { seed in [UInt8](repeating: UInt8(seed), count: 256 * 1024) }
        try store.put("hot", bytes: versions[0])
        let store = self.store
        DispatchQueue.concurrentPerform(iterations: 16) { index in
            if index % 2 == 0 {
                _ = try? store.put("hot", bytes: versions[index / 2 % 4])
            } else {
                if let bytes = try? store.get("hot") {
                    #expect(Set(bytes).count == 1, "a reader saw two versions at once")
                }
            }
        }
        #expect(files() == ["hot"])
    }

    @Test func displayNameIsAFileURL() throws {
        defer { directory.remove() }
        #expect(store.displayName == "file://\(directory.path)")
        let source = try {
            try store.put("s", bytes: [7, 8])
            return try store.rangeSource(for: "s")
        }()
        #expect(source.displayName == "file://\(directory.path)/s")
        #expect(try source.read(offset: 1, length: 1) == [8])
    }
}

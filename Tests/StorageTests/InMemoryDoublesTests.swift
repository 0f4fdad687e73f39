import Foundation
import Storage
import TestSupport
import Testing

@Suite("The in-memory store and source behave like S3 and follow their script")
struct InMemoryDoublesTests {
    @Test("objects: ranges, ifMatch, metadata, listing pages in UTF-8 order")
    func objects() throws {
        let store = InMemoryObjectStore()
        let etag = try store.put("a/1", bytes: Array(0..<100), contentType: nil, metadata: ["Owner": "me"])
        #expect(try store.get("a/1", range: ByteRange(offset: 10, length: 3)) == [10, 11, 12])
        #expect(try store.head("a/1").metadata == ["owner": "me"])
        #expect(throws: StorageError.outOfRange(object: "a/1", range: ByteRange(offset: 99, length: 2), size: 100)) {
            _ = try store.get("a/1", range: ByteRange(offset: 99, length: 2))
        }
        #expect(try store.get("a/1", range: ByteRange(offset: 0, length: 1), ifMatch: etag) == [0])
        try store.put("a/1", bytes: [7])
        #expect(throws: StorageError.self) { _ = try store.get("a/1", range: nil, ifMatch: etag) }
        #expect(throws: StorageError.notFound(object: "a/2")) { _ = try store.head("a/2") }
        try store.delete("a/2")

        for key in ["a/z", "a/b", "a/é", "b/1", "a/B"] { try store.put(key, bytes: [1]) }
        #expect(try store.listAll(prefix: "a/", pageSize: 2).map(\.key) == ["a/1", "a/B", "a/b", "a/z", "a/é"])
        #expect(store.script.requests(.list).count == 3)
        let first = try store.list(prefix: "a/", continuationToken: nil, maxKeys: 5)
        #expect(first.nextContinuationToken == nil)
    }

    @Test("multipart: parts joined in order, small parts refused, unknown uploads not found")
    func multipart() throws {
        let store = InMemoryObjectStore(minimumPartSize: 4)
        let id = try store.createMultipartUpload("k")
        let second = try store.uploadPart("k", uploadId: id, partNumber: 2, bytes: [5, 6])
        let first = try store.uploadPart("k", uploadId: id, partNumber: 1, bytes: [1, 2, 3, 4])
        #expect(store.pendingUploads.map(\.uploadId) == [id])
        #expect(throws: StorageError.self) {
            try store.completeMultipartUpload(
                "k", uploadId: id,
                parts: [CompletedPart(partNumber: 2, etag: second), CompletedPart(partNumber: 1, etag: first)])
        }
        try store.completeMultipartUpload(
            "k", uploadId: id,
            parts: [CompletedPart(partNumber: 1, etag: first), CompletedPart(partNumber: 2, etag: second)])
        #expect(store.contents(of: "k") == [1, 2, 3, 4, 5, 6])
        #expect(store.pendingUploads.isEmpty)
        #expect(throws: StorageError.notFound(object: "k")) { try store.abortMultipartUpload("k", uploadId: id) }

        let small = try store.createMultipartUpload("s")
        let tiny = try store.uploadPart("s", uploadId: small, partNumber: 1, bytes: [1])
        let last = try store.uploadPart("s", uploadId: small, partNumber: 2, bytes: [2])
        #expect(throws: StorageError.self) {
            try store.completeMultipartUpload(
                "s", uploadId: small,
                parts: [CompletedPart(partNumber: 1, etag: tiny), CompletedPart(partNumber: 2, etag: last)])
        }
    }

    @Test("faults by index and by predicate: fail, reset after the work, truncate, delay")
    func storeFaults() throws {
        let store = InMemoryObjectStore()
        store.script.schedule(.fail(.io(object: "x", reason: "first")), at: 0)
        store.script.schedule(.reset) { $0.operation == .put && $0.key == "r" }
        store.script.schedule(.truncate(keeping: 2), times: 1) { $0.operation == .get }
        store.script.schedule(.delay(.milliseconds(50)), times: 1) { $0.operation == .delete }

        #expect(throws: StorageError.io(object: "x", reason: "first")) { try store.put("x", bytes: [1]) }
        #expect(store.contents(of: "x") == nil)
        try store.put("x", bytes: [1, 2, 3, 4])
        #expect(throws: StorageError.self) { try store.put("r", bytes: [9]) }
        #expect(store.contents(of: "r") == [9])
        #expect(try store.get("x") == [1, 2])
        #expect(try store.get("x") == [1, 2, 3, 4])
        let started = Date()
        try store.delete("r")
        #expect(Date().timeIntervalSince(started) >= 0.05)

        let log = store.script.requests
        #expect(log.map(\.index) == Array(0..<log.count))
        #expect(log.map(\.operation) == [.put, .put, .put, .get, .get, .delete])
        #expect(log.map(\.bytes) == [0, 4, 1, 2, 4, 0])
    }

    @Test("a changed ETag makes pinned readers see `changed`")
    func changedETag() throws {
        let store = InMemoryObjectStore()
        try store.put("img", bytes: Array(repeating: 3, count: 64))
        let source = try store.rangeSource(for: "img")
        #expect(try source.read(offset: 0, length: 4) == [3, 3, 3, 3])
        store.script.schedule(.changeETag, times: 1) { $0.operation == .get }
        do {
            _ = try source.read(offset: 0, length: 4)
            Issue.record("a read pinned to the old ETag succeeded")
        } catch StorageError.changed {
            // Pinned to a version that is gone.
        }
    }

    @Test("the in-memory source: bounds, faults, version changes, concurrency")
    func source() throws {
        let source = InMemoryRangeSource(bytes: Array(0..<200), script: RequestScript(latency: .milliseconds(20)))
        source.script.schedule(.fail(.io(object: "s", reason: "injected")), at: 1)
        source.script.schedule(.truncate(keeping: 1), at: 2)
        #expect(try source.read(offset: 5, length: 3) == [5, 6, 7])
        #expect(throws: StorageError.io(object: "s", reason: "injected")) { _ = try source.read(offset: 0, length: 1) }
        #expect(try source.read(offset: 5, length: 3) == [5])
        #expect(throws: StorageError.self) { _ = try source.read(offset: 199, length: 2) }
        let batch = try source.read(ranges: (0..<8).map { ByteRange(offset: UInt64($0 * 10), length: 2) })
        #expect(batch.map(\.first) == (0..<8).map { UInt8($0 * 10) })
        #expect(source.script.mostConcurrentRequests > 1)
        source.changeVersion()
        #expect(throws: StorageError.self) { _ = try source.read(offset: 0, length: 1) }
        #expect(source.script.requests(.read).map(\.bytes).prefix(3) == [3, 0, 1])
    }
}

import Foundation
import RemoteStorage
import Storage
import Testing

/// One behaviour, two stores: the local directory store must act like the bucket.
@Suite("ObjectStore conformance")
struct StoreConformanceTests {
    @Test(arguments: StoreUnderTest.allCases)
    func putHeadGetDelete(_ kind: StoreUnderTest) throws {
        let (store, prefix, cleanup) = try kind.make()
        defer { cleanup() }
        let key = prefix + "backups/one/data.sqsh"
        let bytes = pattern(4096)
        let etag = try store.put(
            key, bytes: bytes, contentType: "application/octet-stream", metadata: ["sandbox": "sb-1"])
        let info = try store.head(key)
        #expect(info.key == key)
        #expect(info.size == 4096)
        #expect(!info.etag.isEmpty)
        #expect(info.etag == etag)
        #expect(info.metadata["sandbox"] == "sb-1")
        #expect(info.lastModified != nil)
        #expect(try store.get(key) == bytes)

        try store.delete(key)
        #expect(throws: StorageError.self) { try store.head(key) }
        do {
            _ = try store.get(key)
            Issue.record("get of a deleted key succeeded")
        } catch let error as StorageError {
            guard case .notFound = error else {
                Issue.record("expected notFound, got \(error)")
                return
            }
        }
        try store.delete(key)  // deleting a missing key succeeds, as in S3
    }

    @Test(arguments: StoreUnderTest.allCases)
    func overwriteReplacesWholeObject(_ kind: StoreUnderTest) throws {
        let (store, prefix, cleanup) = try kind.make()
        defer { cleanup() }
        let key = prefix + "meta.json"
        let first = try store.put(key, bytes: Array("first version".utf8))
        let second = try store.put(key, bytes: Array("v2".utf8), contentType: "application/json")
        #expect(first != second)
        #expect(try store.get(key) == Array("v2".utf8))
        #expect(try store.head(key).size == 2)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func rangeEdgeCases(_ kind: StoreUnderTest) throws {
        let (store, prefix, cleanup) = try kind.make()
        defer { cleanup() }
        let key = prefix + "ranges.bin"
        let bytes = pattern(1000)
        try store.put(key, bytes: bytes)
        #expect(try store.get(key, range: ByteRange(offset: 0, length: 1)) == [bytes[0]])
        #expect(try store.get(key, range: ByteRange(offset: 999, length: 1)) == [bytes[999]])
        #expect(try store.get(key, range: ByteRange(offset: 100, length: 300)) == Array(bytes[100..<400]))
        #expect(try store.get(key, range: ByteRange(offset: 0, length: 1000)) == bytes)
        #expect(try store.get(key, range: ByteRange(offset: 1000, length: 0)) == [])
        for bad in [
            ByteRange(offset: 999, length: 2), ByteRange(offset: 1000, length: 1), ByteRange(offset: 5000, length: 10),
        ] {
            do {
                _ = try store.get(key, range: bad)
                Issue.record("\(kind): read of \(bad) past the end succeeded")
            } catch StorageError.outOfRange(_, _, let size) {
                #expect(size == 1000)
            }
        }
        let pieces = try store.get(
            key,
            ranges: [
                ByteRange(offset: 900, length: 100), ByteRange(offset: 0, length: 10),
                ByteRange(offset: 500, length: 1),
            ])
        #expect(pieces == [Array(bytes[900..<1000]), Array(bytes[0..<10]), [bytes[500]]])

        let empty = prefix + "empty"
        try store.put(empty, bytes: [])
        #expect(try store.head(empty).size == 0)
        #expect(try store.get(empty) == [])
        #expect(try store.get(empty, range: ByteRange(offset: 0, length: 0)) == [])
        #expect(throws: StorageError.self) { try store.get(empty, range: ByteRange(offset: 0, length: 1)) }
    }

    @Test(arguments: StoreUnderTest.allCases)
    func listingAcrossPages(_ kind: StoreUnderTest) throws {
        let (store, prefix, cleanup) = try kind.make()
        defer { cleanup() }
        let names = ["b/2", "a", "b/1", "c", "b/10", "d/e/f", "aa"]
        for name in names { try store.put(prefix + "list/" + name, bytes: Array(name.utf8)) }
        try store.put(prefix + "other", bytes: [1])

        var pages: [[String]] = []
        var token: String?
        repeat {
            let page = try store.list(prefix: prefix + "list/", continuationToken: token, maxKeys: 3)
            pages.append(page.objects.map { String($0.key.dropFirst(prefix.count + 5)) })
            token = page.nextContinuationToken
        } while token != nil && pages.count < 10
        #expect(pages == [["a", "aa", "b/1"], ["b/10", "b/2", "c"], ["d/e/f"]])

        let all = try store.listAll(prefix: prefix + "list/", pageSize: 2)
        #expect(all.count == names.count)
        #expect(all.first { $0.key == prefix + "list/b/10" }?.size == 4)
        #expect(
            try store.listAll(prefix: prefix + "list/b/").map(\.key)
                == ["b/1", "b/10", "b/2"].map { prefix + "list/" + $0 })
        #expect(try store.list(prefix: prefix + "nothing-here/").objects.isEmpty)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func keysWithSpacesUnicodeAndPlus(_ kind: StoreUnderTest) throws {
        let (store, prefix, cleanup) = try kind.make()
        defer { cleanup() }
        let keys = [
            "with space/file name.txt", "unicode/é日本🙂.bin", "plus/a+b=c&d.txt", "odd/~tilde;comma,@at!(x)'q'*%25",
        ].map { prefix + $0 }
        for (index, key) in keys.enumerated() {
            try store.put(key, bytes: pattern(100 + index))
        }
        for (index, key) in keys.enumerated() {
            #expect(try store.head(key).size == UInt64(100 + index))
            #expect(try store.get(key, range: ByteRange(offset: 1, length: 10)) == Array(pattern(100 + index)[1..<11]))
        }
        #expect(Set(try store.listAll(prefix: prefix).map(\.key)) == Set(keys))
        #expect(try store.listAll(prefix: prefix + "with space/").map(\.key) == [keys[0]])
        #expect(try store.listAll(prefix: prefix + "plus/a+b").map(\.key) == [keys[2]])
        #expect(try store.listAll(prefix: prefix + "unicode/é").map(\.key) == [keys[1]])
        for key in keys { try store.delete(key) }
        #expect(try store.listAll(prefix: prefix).isEmpty)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func multipartUploadAndAbort(_ kind: StoreUnderTest) throws {
        let (store, prefix, cleanup) = try kind.make()
        defer { cleanup() }
        let key = prefix + "backups/big/data.sqsh"
        let first = pattern(5 * 1024 * 1024, seed: 1)
        let second = pattern(1234, seed: 2)
        let uploadId = try store.createMultipartUpload(
            key, contentType: "application/octet-stream", metadata: ["n": "2"])
        let etag1 = try store.uploadPart(key, uploadId: uploadId, partNumber: 1, bytes: first)
        let etag2 = try store.uploadPart(key, uploadId: uploadId, partNumber: 2, bytes: second)
        let pending = try store.listMultipartUploads(prefix: prefix)
        #expect(pending.map(\.uploadId) == [uploadId])
        #expect(pending.first?.key == key)
        #expect(pending.first?.initiated != nil)
        #expect(throws: StorageError.self) { try store.head(key) }

        try store.completeMultipartUpload(
            key, uploadId: uploadId,
            parts: [CompletedPart(partNumber: 1, etag: etag1), CompletedPart(partNumber: 2, etag: etag2)])
        let info = try store.head(key)
        #expect(info.size == UInt64(first.count + second.count))
        #expect(info.metadata["n"] == "2")
        #expect(
            try store.get(key, range: ByteRange(offset: UInt64(first.count) - 2, length: 4))
                == Array(first.suffix(2) + second.prefix(2)))
        #expect(try store.get(key) == first + second)
        #expect(try store.listMultipartUploads(prefix: prefix).isEmpty)

        let abandoned = prefix + "backups/abandoned/data.sqsh"
        let abortId = try store.createMultipartUpload(abandoned)
        _ = try store.uploadPart(abandoned, uploadId: abortId, partNumber: 1, bytes: second)
        #expect(try store.listMultipartUploads(prefix: prefix + "backups/abandoned/").map(\.uploadId) == [abortId])
        try store.abortMultipartUpload(abandoned, uploadId: abortId)
        #expect(try store.listMultipartUploads(prefix: prefix).isEmpty)
        #expect(throws: StorageError.self) {
            try store.completeMultipartUpload(
                abandoned, uploadId: abortId, parts: [CompletedPart(partNumber: 1, etag: "x")])
        }
        #expect(throws: StorageError.self) { try store.head(abandoned) }
    }

    @Test(arguments: StoreUnderTest.allCases)
    func tooSmallPartIsRefused(_ kind: StoreUnderTest) throws {
        let (store, prefix, cleanup) = try kind.make()
        defer { cleanup() }
        let key = prefix + "small-parts"
        let uploadId = try store.createMultipartUpload(key)
        let etag1 = try store.uploadPart(key, uploadId: uploadId, partNumber: 1, bytes: pattern(1000))
        let etag2 = try store.uploadPart(key, uploadId: uploadId, partNumber: 2, bytes: pattern(1000))
        #expect(throws: StorageError.self) {
            try store.completeMultipartUpload(
                key, uploadId: uploadId,
                parts: [CompletedPart(partNumber: 1, etag: etag1), CompletedPart(partNumber: 2, etag: etag2)])
        }
        try store.abortMultipartUpload(key, uploadId: uploadId)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func rangeSourceDetectsReplacement(_ kind: StoreUnderTest) throws {
        let (store, prefix, cleanup) = try kind.make()
        defer { cleanup() }
        let key = prefix + "pinned.sqsh"
        // Larger than the head and tail an S3 source keeps from its opening reads, so reads in the
        // middle go out.
        let size = 2_000_000
        let original = pattern(size, seed: 1)
        try store.put(key, bytes: original)
        let source = try store.rangeSource(for: key)
        #expect(source.size == UInt64(size))
        #expect(source.displayName.hasSuffix(key))
        #expect(try source.read(offset: 10, length: 5) == Array(original[10..<15]))
        #expect(try source.read(offset: 600_000, length: 5) == Array(original[600_000..<600_005]))
        #expect(
            try source.read(ranges: [ByteRange(offset: 0, length: 2), ByteRange(offset: UInt64(size - 2), length: 2)])
                == [Array(original[0..<2]), Array(original[(size - 2)...])])
        #expect(throws: StorageError.self) { try source.read(offset: UInt64(size - 8), length: 9) }

        // Same size, other bytes: only the ETag can tell. Bytes of the pinned version kept from
        // the opening read may still be served; bytes of the new version never are.
        try store.put(key, bytes: pattern(size, seed: 2))
        for attempt in 0..<2 {
            do {
                _ =
                    attempt == 0
                    ? try source.read(offset: 600_000, length: 5)
                    : try source.read(ranges: [
                        ByteRange(offset: 500_000, length: 2), ByteRange(offset: 700_000, length: 2),
                    ])
                    .first!
                Issue.record("\(kind): read after replacement succeeded")
            } catch StorageError.changed(let object, _) {
                #expect(object.hasSuffix(key))
            }
        }
        if let kept = try? source.read(offset: 10, length: 5) {
            #expect(kept == Array(original[10..<15]), "\(kind): served bytes of another version")
        }
    }

    @Test(arguments: StoreUnderTest.allCases)
    func manyConcurrentRangeReads(_ kind: StoreUnderTest) throws {
        let (store, prefix, cleanup) = try kind.make()
        defer { cleanup() }
        let key = prefix + "concurrent.bin"
        let bytes = pattern(256 * 1024, seed: 9)
        try store.put(key, bytes: bytes)
        let source = try store.rangeSource(for: key)
        let ranges = (0..<64).map { ByteRange(offset: UInt64($0 * 4000), length: 3000 + $0) }
        let pieces = try source.read(ranges: ranges)
        for (range, piece) in zip(ranges, pieces) {
            #expect(piece == Array(bytes[Int(range.offset)..<Int(range.end)]))
        }
        let results = ConcurrentResults<[UInt8]>(count: 32)
        DispatchQueue.concurrentPerform(iterations: 32) { index in
            results.set(index, Result { try source.read(offset: UInt64(index * 1000), length: 5000) })
        }
        for (index, piece) in try results.values().enumerated() {
            #expect(piece == Array(bytes[index * 1000..<index * 1000 + 5000]))
        }
    }
}

import BackupTestSupport
import Crypto
import Foundation
import Storage
import TestSupport
import Testing

@testable import SQBackup

private func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

@Suite("StoreImageSink and createBackup against the in-memory store")
struct StoreImageSinkTests {
    @Test("a multipart image's composite SHA-256 is the SHA-256 of its parts' SHA-256s, in part order")
    func compositeDigest() throws {
        let partSize = 32 << 10
        let store = InMemoryObjectStore(minimumPartSize: partSize)
        let sink = StoreImageSink(
            writer: MultipartObjectWriter(
                store: store, key: "img", contentType: nil, minimumPartSize: partSize, partsInFlight: 2,
                cancellation: CancellationFlag()))
        let body = (0..<(3 * partSize + 500)).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 8) }
        try body.withUnsafeBytes { try sink.write($0) }
        let header = Array(repeating: UInt8(0x5A), count: 96)
        let digest = try #require(try sink.finish(header: header).composite)

        let stored = try #require(store.contents(of: "img"))
        #expect(stored == header + body[96...])
        var outer = SHA256()
        for start in stride(from: 0, to: stored.count, by: partSize) {
            outer.update(data: Array(SHA256.hash(data: stored[start..<min(start + partSize, stored.count)])))
        }
        #expect(digest.sha256 == hex(outer.finalize()))
        #expect(digest.partSize == partSize && digest.partCount == 4)
        #expect(sink.failure == nil)
    }

    @Test("cancellation and an image too large for its parts are create failures in the facade's words")
    func reportedFailures() throws {
        let flag = CancellationFlag()
        let store = InMemoryObjectStore()
        let sink = StoreImageSink(
            writer: MultipartObjectWriter(
                store: store, key: "img", contentType: nil, minimumPartSize: 1 << 20, partsInFlight: 1,
                cancellation: flag))
        flag.cancel("interrupted by SIGINT")
        #expect(throws: BackupError(.createFailed, "interrupted by SIGINT")) {
            try [1, 2, 3].withUnsafeBytes { try sink.write($0) }
        }
        #expect(sink.failure as? BackupError == BackupError(.createFailed, "interrupted by SIGINT"))

        let tooMany = StoreImageSink.reported(StorageError.tooManyParts(object: "s/img", partSize: 8 << 20))
        #expect(
            tooMany as? BackupError
                == BackupError(
                    .createFailed, "the image outgrew 10,000 parts of 8388608 bytes (the tree grew while it was read)"))
        let other = StorageError.io(object: "img", reason: "down")
        #expect(StoreImageSink.reported(other) as? StorageError == other)
    }

    @Test("createBackup uploads in parts; the composite digest in meta.json matches the stored image")
    func createInParts() throws {
        let work = try TemporaryDirectory("create-memory")
        defer { work.remove() }
        let source = try CreateFixture.incompressibleTree(in: work, megabytes: 6)
        let store = InMemoryObjectStore(minimumPartSize: 1 << 20)
        var options = BackupOptions()
        options.minimumPartSize = 1 << 20
        options.partsInFlight = 2
        let report = try BackupCreator(catalog: BackupCatalog(store: store)).create(dir: source, options: options)
        let backup = try #require(report.backup)
        let composite = try #require(backup.compositeSha256)
        #expect(backup.sha256 == nil)
        let image = try #require(store.contents(of: BackupID.dataKey(backup.id)))
        #expect(UInt64(image.count) == backup.sizeBytes)
        var outer = SHA256()
        for start in stride(from: 0, to: image.count, by: composite.partSize) {
            outer.update(data: Array(SHA256.hash(data: image[start..<min(start + composite.partSize, image.count)])))
        }
        #expect(composite.sha256 == hex(outer.finalize()))
        #expect(composite.partCount == store.script.requests(.uploadPart).count)
        #expect(composite.partCount >= 3)
        // Part 1 carries the superblock, so it is submitted only at the end, after every other part
        // but the last: when it goes, at most `partsInFlight - 1` others can still be on their way,
        // so at most that many requests (and the last part's) can be logged after it.
        let order = store.script.requests(.uploadPart).compactMap(\.partNumber)
        let firstPart = try #require(order.firstIndex(of: 1))
        #expect(firstPart >= order.count - options.partsInFlight, "\(order)")
        #expect(
            store.keys == [BackupID.digestsKey(backup.id), BackupID.dataKey(backup.id), BackupID.metaKey(backup.id)])
        #expect(store.pendingUploads.isEmpty)
    }

    @Test("a part the store refuses fails the create as an R2/S3 upload failure and leaves nothing behind")
    func failedPartLeavesNothing() throws {
        let work = try TemporaryDirectory("create-memory-fail")
        defer { work.remove() }
        let source = try CreateFixture.incompressibleTree(in: work, megabytes: 3)
        let store = InMemoryObjectStore(minimumPartSize: 1 << 20)
        store.script.schedule(.fail(.io(object: "part", reason: "injected part failure"))) {
            $0.operation == .uploadPart && $0.partNumber == 2
        }
        var options = BackupOptions()
        options.minimumPartSize = 1 << 20
        let error = expectBackupError(.createFailed) {
            _ = try BackupCreator(catalog: BackupCatalog(store: store)).create(dir: source, options: options)
        }
        #expect(error?.message.contains("R2/S3 upload failed while uploading the image") == true)
        #expect(error?.message.contains("injected part failure") == true)
        #expect(store.script.requests(.abortMultipartUpload).count == 1)
        #expect(store.keys.isEmpty)
        #expect(store.pendingUploads.isEmpty)
    }
}

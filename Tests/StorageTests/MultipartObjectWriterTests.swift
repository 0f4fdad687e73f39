import Crypto
import Storage
import TestSupport
import Testing

/// Bytes that differ from part to part, so a part in the wrong place shows.
private func pattern(_ count: Int, seed: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 31) ^ ($0 >> 9) &+ seed) }
}

private func writer(
    _ store: InMemoryObjectStore, partSize: Int, width: Int = 1, cancellation: CancellationFlag = CancellationFlag()
) -> MultipartObjectWriter {
    MultipartObjectWriter(
        store: store, key: "objects/a", contentType: "application/octet-stream", minimumPartSize: partSize,
        partsInFlight: width, cancellation: cancellation)
}

/// Appends `bytes` in uneven pieces, as the image builder does.
private func write(_ bytes: [UInt8], to writer: MultipartObjectWriter, piece: Int = 7_777) throws {
    var offset = 0
    while offset < bytes.count {
        let end = min(offset + piece, bytes.count)
        try bytes[offset..<end].withUnsafeBytes { try writer.write($0) }
        offset = end
    }
}

@Suite("MultipartObjectWriter against the in-memory store")
struct MultipartObjectWriterTests {
    @Test("equal parts but the last, part 1 uploaded last with its header, one digest per part")
    func partsAndOrder() throws {
        let partSize = 64 << 10
        let store = InMemoryObjectStore(minimumPartSize: partSize)
        let sink = writer(store, partSize: partSize)
        let body = pattern(5 * partSize + 1_000)
        try write(body, to: sink)
        let header = Array(repeating: UInt8(0xAB), count: 96)
        let digest = try sink.finish(replacingPrefixWith: header)

        let parts = store.script.requests(.uploadPart)
        #expect(parts.map(\.partNumber) == [2, 3, 4, 5, 6, 1])
        #expect(parts.map(\.bytes) == [partSize, partSize, partSize, partSize, 1_000, partSize])
        #expect(store.script.requests(.put).isEmpty)
        #expect(store.script.requests(.createMultipartUpload).count == 1)

        let expected = header + body[96...]
        #expect(store.contents(of: "objects/a") == expected)
        #expect(sink.bytesWritten == UInt64(body.count))
        #expect(sink.bytesStored == UInt64(body.count))
        let partHashes = stride(from: 0, to: expected.count, by: partSize).map { start in
            Array(SHA256.hash(data: expected[start..<min(start + partSize, expected.count)]))
        }
        #expect(digest == .parts(partSize: partSize, sha256s: partHashes))
        #expect(store.pendingUploads.isEmpty)
    }

    @Test("an object of at most one part is a single PUT with its exact SHA-256")
    func singlePut() throws {
        for size in [200, 64 << 10] {
            let store = InMemoryObjectStore()
            let sink = writer(store, partSize: 64 << 10)
            let body = pattern(size, seed: size)
            try write(body, to: sink, piece: 50)
            let header: [UInt8] = [1, 2, 3, 4]
            let digest = try sink.finish(replacingPrefixWith: header)
            let expected = header + body[4...]
            #expect(store.contents(of: "objects/a") == expected)
            #expect(digest == .sha256(Array(SHA256.hash(data: expected))))
            #expect(store.script.requests.map(\.operation) == [.put, .head])
            #expect(sink.bytesStored == UInt64(size))
        }
    }

    @Test("no more than partsInFlight parts upload at once, and more than one does")
    func inFlightWidth() throws {
        let partSize = 16 << 10
        let store = InMemoryObjectStore(minimumPartSize: partSize)
        store.script.schedule(.delay(.milliseconds(60))) { $0.operation == .uploadPart }
        let sink = writer(store, partSize: partSize, width: 3)
        try write(pattern(12 * partSize), to: sink)
        _ = try sink.finish(replacingPrefixWith: [9])
        #expect(store.script.requests(.uploadPart).count == 12)
        #expect((2...3).contains(store.script.mostConcurrentRequests), "\(store.script.mostConcurrentRequests)")
    }

    @Test("a part that fails once fails the upload (the writer does not retry); abort leaves nothing")
    func failedPart() throws {
        let partSize = 16 << 10
        let store = InMemoryObjectStore(minimumPartSize: partSize)
        let injected = StorageError.io(object: "objects/a", reason: "injected")
        store.script.schedule(.fail(injected), times: 1) { $0.operation == .uploadPart && $0.partNumber == 3 }
        let sink = writer(store, partSize: partSize, width: 2)
        #expect(throws: injected) {
            try write(pattern(8 * partSize), to: sink)
            _ = try sink.finish(replacingPrefixWith: [9])
        }
        #expect(store.script.requests(.uploadPart).filter { $0.partNumber == 3 }.count == 1)
        #expect(store.script.requests(.completeMultipartUpload).isEmpty)
        #expect(sink.abort() == nil)
        #expect(store.script.requests(.abortMultipartUpload).count == 1)
        #expect(store.pendingUploads.isEmpty)
        #expect(store.keys.isEmpty)
    }

    @Test("cancellation stops the writer with the reason; abort removes the upload")
    func cancellation() throws {
        let partSize = 16 << 10
        let store = InMemoryObjectStore(minimumPartSize: partSize)
        let flag = CancellationFlag()
        let sink = writer(store, partSize: partSize, width: 2, cancellation: flag)
        try write(pattern(4 * partSize), to: sink)
        #expect(store.pendingUploads.count == 1)
        flag.cancel("interrupted by SIGTERM")
        flag.cancel("a later reason")
        #expect(throws: StorageError.cancelled(reason: "interrupted by SIGTERM")) {
            try write(pattern(10), to: sink)
        }
        #expect(throws: StorageError.cancelled(reason: "interrupted by SIGTERM")) {
            _ = try sink.finish(replacingPrefixWith: [9])
        }
        #expect(sink.abort() == nil)
        #expect(store.pendingUploads.isEmpty)
        #expect(store.keys.isEmpty)
    }

    @Test("a store that keeps a short object fails verification; abort deletes the object")
    func truncatedPut() throws {
        let store = InMemoryObjectStore()
        store.script.schedule(.truncate(keeping: 10)) { $0.operation == .put }
        let sink = writer(store, partSize: 1 << 20)
        try write(pattern(500), to: sink)
        do {
            _ = try sink.finish(replacingPrefixWith: [1])
            Issue.record("a truncated object passed verification")
        } catch let StorageError.io(_, reason) {
            #expect(reason.contains("holds 10 bytes, expected 500"))
        }
        #expect(sink.abort() == nil)
        #expect(store.keys.isEmpty)
    }

    @Test("an abort the store refuses is reported as a leftover")
    func leftoverUpload() throws {
        let partSize = 16 << 10
        let store = InMemoryObjectStore(minimumPartSize: partSize)
        store.script.schedule(.fail(.io(object: "objects/a", reason: "down"))) { $0.operation == .abortMultipartUpload }
        let sink = writer(store, partSize: partSize)
        try write(pattern(3 * partSize), to: sink)
        let leftovers = sink.abort()
        #expect(leftovers?.contains("could not be aborted") == true)
        #expect(store.pendingUploads.count == 1)
    }

    @Test("past 10,000 parts the writer stops with tooManyParts")
    func tooManyParts() throws {
        let store = InMemoryObjectStore(minimumPartSize: 1)
        let sink = writer(store, partSize: 1, width: 16)
        #expect(throws: StorageError.tooManyParts(object: "memory://memory/objects/a", partSize: 1)) {
            try write(pattern(10_001), to: sink, piece: 4096)
        }
        #expect(sink.abort() == nil)
        #expect(store.pendingUploads.isEmpty)
    }

    @Test("part sizes: whole MiB, 10,000 parts with room to spare, never under the minimum")
    func partSizing() {
        #expect(MultipartObjectWriter.partSize(maximumSize: 0, minimum: 8 << 20) == 8 << 20)
        #expect(MultipartObjectWriter.partSize(maximumSize: 0, minimum: 1) == 1 << 20)
        for size in [UInt64(100) << 30, UInt64(5) << 40] {
            let part = MultipartObjectWriter.partSize(maximumSize: size, minimum: 8 << 20)
            #expect(part % (1 << 20) == 0)
            #expect(UInt64(part) * 9_500 >= size)
        }
    }
}

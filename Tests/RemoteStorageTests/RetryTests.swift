import Foundation
import RemoteStorage
import Storage
import TestSupport
import Testing

/// Retries and resumption through the fault-injecting proxy in front of moto. Serialized:
/// the proxy's fault queue is shared.
@Suite("Retries through a faulty network", .serialized)
struct RetryTests {
    static let proxy = Result { try FaultProxy(upstreamPort: try S3TestServer.shared().port, stallSeconds: 4) }

    let proxy: FaultProxy
    let direct: S3Store
    let faulty: S3Store
    let prefix = "retry-\(UUID().uuidString.prefix(8))/"

    init() throws {
        proxy = try Self.proxy.get()
        try proxy.clear()
        direct = try S3Store.forTests()
        var options = HTTPClientOptions()
        options.firstByteTimeout = 1
        options.stallTimeout = 1
        faulty = try S3Store.forTests(endpoint: proxy.endpoint, client: HTTPClient(options: options))
    }

    func object(_ name: String, size: Int, seed: UInt8 = 0) throws -> (key: String, bytes: [UInt8]) {
        let key = prefix + name
        let bytes = pattern(size, seed: seed)
        try direct.put(key, bytes: bytes)
        return (key, bytes)
    }

    @Test func serviceUnavailableThenSuccess() throws {
        let (key, bytes) = try object("503", size: 1000)
        try proxy.inject(["503", "503"])
        #expect(try faulty.get(key, range: ByteRange(offset: 10, length: 100)) == Array(bytes[10..<110]))
        #expect(try proxy.log().map(\.fault) == ["503", "503", "pass"])

        try proxy.clear()
        try proxy.inject(["500"])
        try faulty.put(key, bytes: [9, 9, 9])
        #expect(try direct.get(key) == [9, 9, 9])
        #expect(try proxy.log().map(\.method) == ["PUT", "PUT"])
    }

    @Test func resetBeforeBodyIsRetried() throws {
        let (key, bytes) = try object("reset-before", size: 64 * 1024)
        try proxy.inject(["reset-before-body"])
        #expect(try faulty.get(key) == bytes)
        #expect(try proxy.log().count == 2)
    }

    @Test func resetDuringBodyResumesWhereItStopped() throws {
        let (key, bytes) = try object("reset-during", size: 1024 * 1024, seed: 5)
        try proxy.inject(["reset-during-body"])
        let range = ByteRange(offset: 1000, length: 800_000)
        #expect(try faulty.get(key, range: range) == Array(bytes[1000..<801_000]))
        let log = try proxy.log()
        #expect(log.count == 2)
        #expect(log.first?.range == "bytes=1000-800999")
        let resumedFrom = log.last?.range.flatMap { UInt64($0.dropFirst(6).prefix { $0 != "-" }) } ?? 0
        #expect(resumedFrom > 1000, "the second request should continue after the bytes that arrived")
        #expect(log.last?.range?.hasSuffix("-800999") == true)
    }

    @Test func truncatedWholeObjectResumes() throws {
        let (key, bytes) = try object("truncated", size: 512 * 1024, seed: 6)
        try proxy.inject(["truncate"])
        #expect(try faulty.get(key) == bytes)
        let log = try proxy.log()
        #expect(log.count == 2)
        #expect(log.first?.range == nil)
        #expect(log.last?.range?.hasPrefix("bytes=") == true)
        #expect(log.last?.range?.hasSuffix("-") == true)
    }

    @Test func stallTimesOutAndRetries() throws {
        let (key, bytes) = try object("stall", size: 256 * 1024, seed: 7)
        try proxy.inject(["stall"])
        let started = Date()
        #expect(try faulty.get(key, range: ByteRange(offset: 0, length: 200_000)) == Array(bytes[0..<200_000]))
        #expect(Date().timeIntervalSince(started) < 3.5, "the stall timeout (1 s) should cut the transfer short")

        try proxy.clear()
        try proxy.inject(["stall-before-headers"])
        #expect(try faulty.head(key).size == 256 * 1024)
        #expect(try proxy.log().count == 2)
    }

    @Test func completeIsRetriedSafelyWhenTheAnswerIsLost() throws {
        let key = prefix + "multipart"
        let uploadId = try faulty.createMultipartUpload(key)
        let part1 = pattern(5 * 1024 * 1024, seed: 1)
        let part2 = pattern(10, seed: 2)
        let parts = [
            CompletedPart(
                partNumber: 1, etag: try faulty.uploadPart(key, uploadId: uploadId, partNumber: 1, bytes: part1)),
            CompletedPart(
                partNumber: 2, etag: try faulty.uploadPart(key, uploadId: uploadId, partNumber: 2, bytes: part2)),
        ]
        try proxy.clear()
        // The server completes the upload but the client never sees the answer.
        try proxy.inject(["reset-before-body"])
        try faulty.completeMultipartUpload(key, uploadId: uploadId, parts: parts)
        #expect(try direct.head(key).size == UInt64(part1.count + part2.count))
        #expect(try proxy.log().map(\.method) == ["POST", "POST"])
    }

    @Test func persistentFailureGivesUpWithTheReason() throws {
        let (key, _) = try object("persistent", size: 10)
        let impatient = try S3Store.forTests(
            endpoint: proxy.endpoint, retryPolicy: RetryPolicy(maxAttempts: 3, baseDelay: 0.01, maxDelay: 0.01))
        try proxy.inject(Array(repeating: "503", count: 3))
        do {
            _ = try impatient.get(key)
            Issue.record("get succeeded through persistent 503s")
        } catch StorageError.io(_, let reason) {
            #expect(reason.contains("503"))
            #expect(reason.contains("SlowDown"))
        }
        #expect(try proxy.log().count == 3)
    }

    @Test func presignedSourceRetriesToo() throws {
        let (key, bytes) = try object("presigned", size: 300_000, seed: 8)
        let url = faulty.presignedURL(for: key)
        try proxy.inject(["503", "reset-during-body"])
        let source = try HTTPRangeSource(
            url: url, retryPolicy: RetryPolicy(maxAttempts: 4, baseDelay: 0.01, maxDelay: 0.05))
        #expect(try source.read(offset: 1, length: 250_000) == Array(bytes[1..<250_001]))
        #expect(try proxy.log().map(\.fault) == ["503", "reset-during-body", "pass", "pass"])
    }
}

import Foundation
import RemoteStorage
import Storage
import TestSupport
import Testing

/// What only a real server can show: refused credentials, unknown buckets, presigned URLs.
@Suite("S3 against moto")
struct S3ServerBehaviourTests {
    @Test func wrongSecretIsRefusedWithoutShowingIt() throws {
        let secret = "WRONG-secret-\(UUID().uuidString)"
        let store = try S3Store.forTests(secret: secret)
        for operation in [
            { _ = try store.list(prefix: "") }, { _ = try store.head("missing") }, { try store.put("x", bytes: [1]) },
            { _ = try store.get("x") },
        ] as [() throws -> Void] {
            do {
                try operation()
                Issue.record("a request signed with the wrong secret was accepted")
            } catch let error as StorageError {
                guard case .unauthorized = error else {
                    Issue.record("expected unauthorized, got \(error)")
                    continue
                }
                #expect(!"\(error)".contains(secret))
                #expect(!String(reflecting: error).contains(secret))
            }
        }
        #expect(!"\(store.configuration)".contains(secret))
    }

    @Test("a part's SHA-256 is sent signed: the server stores the part it matches and refuses one it does not")
    func partDigestIsCheckedByTheServer() throws {
        let store = try S3Store.forTests(retryPolicy: RetryPolicy(maxAttempts: 2, baseDelay: 0.01, maxDelay: 0.01))
        let key = "digest-\(UUID().uuidString.prefix(8))/object"
        defer { try? store.delete(key) }
        let bytes = pattern(300_000, seed: 5)
        let hex = Array(SigV4Signer.sha256Hex(bytes).utf8)
        let digest = stride(from: 0, to: hex.count, by: 2).map {
            UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16)!
        }
        let uploadId = try store.createMultipartUpload(key)
        var wrong = digest
        wrong[0] ^= 0xFF
        do {
            _ = try store.uploadPart(key, uploadId: uploadId, partNumber: 1, bytes: bytes, sha256: wrong)
            Issue.record("a part whose SHA-256 does not match was accepted")
        } catch StorageError.io(_, let reason) {
            #expect(reason.contains("XAmzContentSHA256Mismatch"), "\(reason)")
        }
        let etag = try store.uploadPart(key, uploadId: uploadId, partNumber: 1, bytes: bytes, sha256: digest)
        try store.completeMultipartUpload(key, uploadId: uploadId, parts: [CompletedPart(partNumber: 1, etag: etag)])
        #expect(try store.get(key) == bytes)
    }

    @Test func unknownBucketIsNotFound() throws {
        let store = try S3Store.forTests(bucket: "no-such-bucket-\(UInt32.random(in: 0...UInt32.max))")
        do {
            _ = try store.list(prefix: "")
            Issue.record("listing an unknown bucket succeeded")
        } catch StorageError.notFound(let object) {
            #expect(object.contains("NoSuchBucket"))
        }
    }

    @Test func unreachableEndpointFailsWithIOError() throws {
        let store = try S3Store.forTests(
            endpoint: "http://127.0.0.1:9", retryPolicy: RetryPolicy(maxAttempts: 2, baseDelay: 0.01, maxDelay: 0.01))
        do {
            _ = try store.head("x")
            Issue.record("request to a closed port succeeded")
        } catch StorageError.io(let object, let reason) {
            #expect(object.contains("x"))
            #expect(reason.contains("after 2 attempts"))
        }
    }

    @Test func presignedURLServesRangesWithoutCredentials() throws {
        let store = try S3Store.forTests()
        let key = "presigned-\(UUID().uuidString.prefix(8))/image with space+plus.sqsh"
        defer { try? store.delete(key) }
        let bytes = pattern(100_000, seed: 3)
        try store.put(key, bytes: bytes)
        let url = store.presignedURL(for: key, expiresIn: 600)
        let signature = try #require(url.split(separator: "X-Amz-Signature=").last.map(String.init))

        // headLength 1: every read below goes to the server, with the presigned query.
        let source = try HTTPRangeSource(url: url, headLength: 1)
        #expect(source.size == 100_000)
        #expect(!source.displayName.contains("?"))
        #expect(!source.displayName.contains(signature))
        #expect(source.displayName.hasSuffix("image%20with%20space%2Bplus.sqsh"))
        #expect(try source.read(offset: 0, length: 1) == [bytes[0]])
        #expect(try source.read(offset: 99_999, length: 1) == [bytes[99_999]])
        let pieces = try source.read(ranges: [
            ByteRange(offset: 50_000, length: 20_000), ByteRange(offset: 10, length: 10),
            ByteRange(offset: 0, length: 0),
        ])
        #expect(pieces == [Array(bytes[50_000..<70_000]), Array(bytes[10..<20]), []])
        do {
            _ = try source.read(offset: 99_990, length: 20)
            Issue.record("read past the end succeeded")
        } catch let error as StorageError {
            #expect(!"\(error)".contains(signature))
        }

        try store.put(key, bytes: pattern(100_000, seed: 4))
        do {
            _ = try source.read(offset: 0, length: 10)
            Issue.record("read of a replaced object succeeded")
        } catch let error as StorageError {
            guard case .changed = error else {
                Issue.record("expected changed, got \(error)")
                return
            }
            #expect(!"\(error)".contains(signature))
        }

        let tampered = url.replacingOccurrences(of: "X-Amz-Signature=", with: "X-Amz-Signature=0")
        do {
            _ = try HTTPRangeSource(url: tampered)
            Issue.record("a tampered presigned URL was accepted")
        } catch let error as StorageError {
            guard case .unauthorized = error else {
                Issue.record("expected unauthorized, got \(error)")
                return
            }
            #expect(!"\(error)".contains(signature))
        }
    }

    @Test func presignedURLOfEmptyObject() throws {
        let store = try S3Store.forTests()
        let key = "presigned-\(UUID().uuidString.prefix(8))/empty"
        defer { try? store.delete(key) }
        try store.put(key, bytes: [])
        let source = try HTTPRangeSource(url: store.presignedURL(for: key))
        #expect(source.size == 0)
        #expect(try source.read(offset: 0, length: 0) == [])
        #expect(throws: StorageError.self) { try source.read(offset: 0, length: 1) }
    }

    @Test func presignedURLOfMissingObjectIsNotFound() throws {
        let store = try S3Store.forTests()
        #expect(
            throws: StorageError.notFound(object: HTTPRangeSource.redacted(store.presignedURL(for: "nope/missing")))
        ) {
            _ = try HTTPRangeSource(url: store.presignedURL(for: "nope/missing"))
        }
    }
}

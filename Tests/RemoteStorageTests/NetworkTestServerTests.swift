import Foundation
import RemoteStorage
import Storage
import TestSupport
import Testing

private func randomBytes(_ count: Int) throws -> [UInt8] {
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom"))
    defer { try? handle.close() }
    return Array(try handle.read(upToCount: count) ?? Data())
}

private func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// The helpers the lazy-mount tests and benchmark stand on: the counting range server and the
/// delaying proxy, driven through the real `HTTPRangeSource`.
@Suite("Network test servers", .serialized)
struct NetworkTestServerTests {
    @Test func rangeServerCountsWhatHTTPRangeSourceAsks() throws {
        let work = try TemporaryDirectory("range-server")
        defer { work.remove() }
        let content = try randomBytes(1 << 20)
        try FileManager.default.createDirectory(atPath: work.child("dir a"), withIntermediateDirectories: true)
        try Data(content).write(to: URL(fileURLWithPath: work.child("dir a/image.sqsh")))
        let server = try RangeServer(directory: work.path)

        // By default the opening probe reads the head and keeps it: reads inside it cost nothing.
        let headed = try HTTPRangeSource(url: server.url(for: "dir a/image.sqsh"), headLength: 8192)
        var stats = try server.stats()
        #expect(stats.requests == 1 && stats.log.first?.range == "bytes=0-8191")
        try server.reset()
        #expect(try headed.read(offset: 100, length: 8000) == Array(content[100..<8100]))
        #expect(try headed.read(offset: 8000, length: 400) == Array(content[8000..<8400]))
        stats = try server.stats()
        #expect(stats.requests == 1 && stats.log.first?.range == "bytes=8000-8399", "only the read past the head")
        try server.reset()

        // With a tail: head and tail are read at once; reads inside either are free, a read that
        // ends in the tail fetches only the bytes before it.
        let tailed = try HTTPRangeSource(url: server.url(for: "dir a/image.sqsh"), headLength: 8192, tailLength: 4096)
        stats = try server.stats()
        #expect(Set(stats.log.compactMap(\.range)) == ["bytes=0-8191", "bytes=-4096"])
        try server.reset()
        let size = content.count
        #expect(try tailed.read(offset: UInt64(size - 100), length: 100) == Array(content[(size - 100)...]))
        #expect(try server.stats().requests == 0)
        #expect(try tailed.read(offset: UInt64(size - 5000), length: 5000) == Array(content[(size - 5000)...]))
        stats = try server.stats()
        #expect(stats.log.map(\.range) == ["bytes=\(size - 5000)-\(size - 4097)"])
        try server.reset()

        let source = try HTTPRangeSource(url: server.url(for: "dir a/image.sqsh"), headLength: 1)
        #expect(source.size == UInt64(content.count))
        #expect(source.etag != nil)
        stats = try server.stats()
        #expect(stats.requests == 1)  // the size probe
        #expect(stats.log.first?.range == "bytes=0-0")
        #expect(stats.log.first?.path == "/dir%20a/image.sqsh")

        try server.reset()
        #expect(try source.read(offset: 1000, length: 4096) == Array(content[1000..<5096]))
        let ranges = [ByteRange(offset: 0, length: 10), ByteRange(offset: 500_000, length: 65_536)]
        let pieces = try source.read(ranges: ranges)
        #expect(pieces[1] == Array(content[500_000..<565_536]))
        stats = try server.stats()
        #expect(stats.requests == 3)
        #expect(stats.bytes == 4096 + 10 + 65_536)
        #expect(Set(stats.log.compactMap(\.range)) == ["bytes=1000-5095", "bytes=0-9", "bytes=500000-565535"])
        #expect(stats.log.allSatisfy { $0.status == 206 && $0.method == "GET" })

        // Rewriting the object changes its ETag: the pinned source gets 412 and reports a change.
        try Data(content.reversed()).write(to: URL(fileURLWithPath: work.child("dir a/image.sqsh")))
        #expect {
            try source.read(offset: 0, length: 100)
        } throws: { error in
            if case .changed = error as? StorageError { return true }
            return false
        }
        #expect(try server.stats().log.last?.status == 412)
    }

    @Test func rangeServerEdgeCases() throws {
        let work = try TemporaryDirectory("range-server")
        defer { work.remove() }
        try Data().write(to: URL(fileURLWithPath: work.child("empty")))
        try Data(try randomBytes(100)).write(to: URL(fileURLWithPath: work.child("small")))
        let server = try RangeServer(directory: work.path)
        // An empty object answers the probe with 416 and a size of 0.
        #expect(try HTTPRangeSource(url: server.url(for: "empty")).size == 0)
        #expect(throws: StorageError.notFound(object: server.url(for: "missing"))) {
            try HTTPRangeSource(url: server.url(for: "missing"), retryPolicy: RetryPolicy(maxAttempts: 1))
        }
        let client = HTTPClient.shared
        let suffix = try client.perform(
            HTTPRequest(method: "GET", url: server.url(for: "small"), headers: [("Range", "bytes=-10")]))
        #expect(suffix.status == 206)
        #expect(suffix.headers["content-range"] == "bytes 90-99/100")
        let beyond = try client.perform(
            HTTPRequest(method: "GET", url: server.url(for: "small"), headers: [("Range", "bytes=100-")]))
        #expect(beyond.status == 416)
        #expect(beyond.headers["content-range"] == "bytes */100")
        let head = try client.perform(HTTPRequest(method: "HEAD", url: server.url(for: "small")))
        #expect(head.status == 200)
        #expect(head.headers["content-length"] == "100")
        #expect(head.body.isEmpty)
        let escape = try client.perform(HTTPRequest(method: "GET", url: server.endpoint + "/%2E%2E/%2E%2E/etc/passwd"))
        #expect(escape.status == 404)
        // The HTTP control endpoints, as the benchmark uses them.
        let stats = try client.perform(HTTPRequest(method: "GET", url: server.endpoint + "/__stats"))
        let decoded = try JSONDecoder().decode(RangeServer.Stats.self, from: Data(stats.body))
        #expect(decoded.requests == 6)
        #expect(try client.perform(HTTPRequest(method: "POST", url: server.endpoint + "/__reset")).status == 200)
        #expect(try server.stats().requests == 0)
    }

    @Test func delayProxyAddsTheRoundTrip() throws {
        let work = try TemporaryDirectory("delay-proxy")
        defer { work.remove() }
        let content = try randomBytes(256 * 1024)
        try Data(content).write(to: URL(fileURLWithPath: work.child("blob")))
        let server = try RangeServer(directory: work.path)
        let delay = 25.0
        let proxy = try DelayProxy(upstreamPort: server.port, delayMilliseconds: delay)
        // headLength 1: the reads below must go over the wire, not come from the kept head.
        let direct = try HTTPRangeSource(url: server.url(for: "blob"), headLength: 1)
        let delayed = try HTTPRangeSource(url: proxy.proxied(server.url(for: "blob")), headLength: 1)
        #expect(delayed.etag == direct.etag)

        var directTimes: [Double] = []
        var delayedTimes: [Double] = []
        for index in 0..<5 {
            let range = ByteRange(offset: UInt64(index) * 4096, length: 4096)
            var bytes: [UInt8] = []
            directTimes.append(try seconds { bytes = try direct.read(range) })
            #expect(bytes == Array(content[index * 4096..<(index + 1) * 4096]))
            delayedTimes.append(try seconds { bytes = try delayed.read(range) })
            #expect(bytes == Array(content[index * 4096..<(index + 1) * 4096]))
        }
        let roundTrip = 2 * delay / 1000
        // Every request through the proxy pays at least one round trip; reused connections pay
        // about one (generous upper bound: this machine has 2 busy cores).
        #expect(delayedTimes.allSatisfy { $0 >= roundTrip * 0.95 })
        #expect(delayedTimes.sorted()[2] < roundTrip * 4)
        #expect(directTimes.sorted()[2] < delayedTimes.sorted()[2])
        let stats = try proxy.stats()
        #expect(stats.connections >= 1)
        #expect(stats.bytesDown >= 5 * 4096)
        #expect(try server.stats().requests == 2 + 10)  // two probes, ten reads

        // Bulk data is delayed, not throttled: 256 KiB arrives in a few round trips, not in
        // one round trip per chunk.
        let bulk = try seconds { _ = try delayed.read(ByteRange(offset: 0, length: content.count)) }
        #expect(bulk < roundTrip * 6)
    }
}

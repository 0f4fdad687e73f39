import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The lazy mount's request budget (a mount in at most 3 requests, a walk in none), checked through
/// the kernel against a counting HTTP range server.
@Suite("Lazy mounts over HTTP: request counts", .serialized)
struct LazyMountTests {
    private static let blockSize = 131_072

    private struct Fixture {
        let work: TemporaryDirectory
        let server: RangeServer
        let url: String
        let big: [UInt8]
        let mountpoint: String
        let cache: String
    }

    private func makeFixture() throws -> Fixture {
        if let reason = FuseCapability.missingReason {
            Issue.record("FUSE tests cannot run: \(reason)")
            throw CancellationError()
        }
        let work = try TemporaryDirectory("lazy")
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source + "/tree", withIntermediateDirectories: true)
        var big = TestTree.pseudoRandomBytes(count: 24 << 20, seed: 13)
        for index in stride(from: 0, to: big.count, by: 2) { big[index] = 65 }
        try Data(big).write(to: URL(fileURLWithPath: source + "/big.bin"))
        for index in 0..<500 {
            try Data("file \(index)\n".utf8).write(to: URL(fileURLWithPath: source + "/tree/f\(index).txt"))
        }
        let served = work.child("served")
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        try SquashfsTools.mksquashfs(source, to: served + "/image.sqsh", compressor: "zstd", blockSize: Self.blockSize)
        let server = try RangeServer(directory: served)
        let mountpoint = work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        return Fixture(
            work: work, server: server, url: server.url(for: "image.sqsh"), big: big, mountpoint: mountpoint,
            cache: work.child("cache"))
    }

    /// Runs `body` with a fresh fixture, then unmounts and removes everything it made.
    private func withFixture(_ body: (Fixture) throws -> Void) throws {
        let fixture = try makeFixture()
        defer {
            _ = try? SQBackupBinary.run(["unmount", fixture.mountpoint])
            fixture.server.stop()
            fixture.work.remove()
        }
        try body(fixture)
    }

    private func mount(_ fixture: Fixture, _ extra: [String] = []) throws {
        let result = try SQBackupBinary.run(
            ["mount", fixture.url, fixture.mountpoint, "--cache-dir", fixture.cache] + extra)
        #expect(result.status == 0, "\(result.stderr)")
    }

    private func unmount(_ fixture: Fixture) throws {
        #expect(try SQBackupBinary.run(["unmount", fixture.mountpoint]).status == 0)
        // The daemon flushes its disk cache as it exits; wait for it to be gone.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let running = try Shell.run(["pgrep", "-f", "sqbackup mount .* \(fixture.mountpoint) --foreground"])
            if !running.succeeded { break }
            usleep(20_000)
        }
    }

    private func dataRequests(_ stats: RangeServer.Stats) -> [RangeServer.Entry] {
        stats.log.filter { $0.method == "GET" }
    }

    @Test("mount takes at most 3 requests and listing the whole tree takes none")
    func mountAndList() throws {
        try withFixture { fixture in
            try fixture.server.reset()
            try mount(fixture)
            let mounting = try fixture.server.stats()
            // The issue allows 3; the head read doubles as the size probe and the tail (with the
            // metadata tables) is read at the same time, so a URL mount takes 2, in one round trip.
            #expect(mounting.requests <= 2, "\(mounting.log)")
            try fixture.server.reset()
            try Shell.check(["ls", "-lR", fixture.mountpoint])
            try Shell.check(["find", fixture.mountpoint, "-type", "f"])
            var info = stat()
            #expect(stat(fixture.mountpoint + "/tree/f42.txt", &info) == 0)
            #expect(try fixture.server.stats().requests == 0)
        }
    }

    @Test("a 4 KiB read fetches at most two blocks; a sequential read uses growing ranges")
    func randomAndSequential() throws {
        try withFixture { fixture in
            try mount(fixture)
            try fixture.server.reset()
            let fd = open(fixture.mountpoint + "/big.bin", O_RDONLY)
            #expect(fd >= 0)
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let offset = 10 << 20
            #expect(pread(fd, &buffer, 4096, off_t(offset)) == 4096)
            #expect(buffer == Array(fixture.big[offset..<offset + 4096]))
            let random = try fixture.server.stats()
            #expect(random.bytes <= 2 * Self.blockSize, "\(random.log)")

            try fixture.server.reset()
            let whole = try Data(contentsOf: URL(fileURLWithPath: fixture.mountpoint + "/big.bin"))
            #expect([UInt8](whole) == fixture.big)
            let sequential = dataRequests(try fixture.server.stats())
            let sizes = sequential.map(\.bytes)
            // The window grows with what has been read: the largest request (a few MiB for this
            // 24 MiB file of ~12 MB stored) is several times the first read's.
            let first = try #require(sizes.first)
            #expect((sizes.max() ?? 0) >= max(4 * first, 2 << 20), "\(sizes)")
            #expect(sequential.count < fixture.big.count / Self.blockSize / 4, "\(sequential.count) requests")
        }
    }

    @Test("a remount with a warm disk cache reads everything without data requests; --prefetch all hydrates once")
    func warmCacheAndHydration() throws {
        try withFixture { fixture in
            try fixture.server.reset()
            try mount(fixture, ["--prefetch", "all"])
            // Hydration runs in the background; wait until the server has sent the whole image.
            let imageSize =
                try FileManager.default.attributesOfItem(atPath: fixture.server.directory + "/image.sqsh")[.size]
                as! Int
            let deadline = Date().addingTimeInterval(30)
            var stats = try fixture.server.stats()
            while stats.bytes < imageSize * 9 / 10 && Date() < deadline {
                usleep(50_000)
                stats = try fixture.server.stats()
            }
            try unmount(fixture)
            let hydrated = try fixture.server.stats()
            // The mount itself makes the first two requests (head with the size and the tail with the
            // metadata, at once) before it is ready; hydration starts after. Each byte once:
            // hydration's ranges do not overlap.
            #expect(Set(hydrated.log.prefix(2).compactMap(\.range)) == ["bytes=0-131071", "bytes=-1048576"])
            let hydration = Array(hydrated.log.dropFirst(2))
            let ranges = hydration.compactMap(\.range).compactMap { range -> (Int, Int)? in
                let parts = range.replacingOccurrences(of: "bytes=", with: "").split(separator: "-")
                guard parts.count == 2, let start = Int(parts[0]), let end = Int(parts[1]) else { return nil }
                return (start, end)
            }.sorted { $0.0 < $1.0 }
            #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.1 < $1.0 }, "overlapping ranges: \(ranges)")
            #expect(hydration.reduce(0) { $0 + $1.bytes } <= imageSize)
            #expect(hydration.reduce(0) { $0 + $1.bytes } >= fixture.big.count / 2)

            try fixture.server.reset()
            try mount(fixture)
            let whole = try Data(contentsOf: URL(fileURLWithPath: fixture.mountpoint + "/big.bin"))
            #expect([UInt8](whole) == fixture.big)
            for index in stride(from: 0, to: 500, by: 37) {
                #expect(
                    try String(contentsOfFile: fixture.mountpoint + "/tree/f\(index).txt", encoding: .utf8)
                        == "file \(index)\n")
            }
            let afterRemount = try fixture.server.stats()
            // Only the mount's own metadata reads; no data block comes from the network.
            #expect(afterRemount.requests <= 3, "\(afterRemount.log)")
        }
    }
}

extension LazyMountTests {
    /// `status`'s request count and bytes against the server's own count: they include the
    /// opening requests, and reads answered from the daemon's caches add nothing.
    @Test("status counts exactly the requests the daemon sent, and no cache hits")
    func statusCountsTheDaemonsOwnRequests() throws {
        try withFixture { fixture in
            try mount(fixture)
            func status() throws -> [String: Any] {
                let result = try SQBackupBinary.run(["status", fixture.mountpoint, "--json"])
                #expect(result.status == 0, "\(result.stderr)")
                let decoded = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
                return try #require((decoded?["mounts"] as? [[String: Any]])?.first)
            }
            let opened = try status()
            #expect(opened["rangeRequests"] as? Int == (try fixture.server.stats().requests))
            #expect(opened["failedRequests"] as? Int == 0)

            let data = try Data(contentsOf: URL(fileURLWithPath: fixture.mountpoint + "/big.bin"))
            #expect(data.elementsEqual(fixture.big))
            let read = try status()
            let served = try fixture.server.stats()
            #expect(read["rangeRequests"] as? Int == served.requests)
            #expect(read["bytesFetched"] as? Int == served.bytes)
            #expect((read["rangeRequests"] as? Int ?? 0) > (opened["rangeRequests"] as? Int ?? 0))
            #expect(read["latencyP50"] is Double)

            // Served again from the kernel's page cache and the daemon's memory cache.
            _ = try Data(contentsOf: URL(fileURLWithPath: fixture.mountpoint + "/big.bin"))
            let again = try status()
            #expect(again["rangeRequests"] as? Int == served.requests)
            #expect(try fixture.server.stats().requests == served.requests)
            try unmount(fixture)
        }
    }
}

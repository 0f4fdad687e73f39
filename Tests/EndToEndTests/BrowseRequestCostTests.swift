import BackupTestSupport
import Foundation
import SQBackup
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What `mount --all` costs in requests, counted where they arrive: a moto bucket behind an nginx
/// proxy of this test's own (no other test's requests in its access log).
@Suite("mount --all request costs at a real S3 server, counted by a proxy", .serialized)
struct BrowseRequestCostTests {
    /// The bucket's requests in the proxy's log, sorted into listings and object requests.
    private struct Counted {
        var listings = 0
        var objects: [String] = []

        init(_ log: [TLSProxy.Entry], bucket: String) {
            for entry in log where entry.path == "/" + bucket || entry.path.hasPrefix("/" + bucket + "/") {
                let key = entry.path.dropFirst(bucket.count + 1).drop { $0 == "/" }
                if entry.method == "GET" && key.isEmpty {
                    listings += 1
                } else {
                    objects.append("\(entry.method) \(key)")
                }
            }
        }
    }

    @Test("ls by-id/ again and again within one refresh is one LIST and no GET; the next refresh one LIST more")
    func oneListingPerRefresh() throws {
        guard try requireFuse() else { return }
        let pool = try S3BucketPool.shared()
        let bucket = try pool.takeBucket()
        let proxy = try TLSProxy(upstreamPort: pool.port)
        defer { proxy.stop() }
        let work = try TemporaryDirectory("cli-browse-cost")
        defer { work.remove() }
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: source + "/hello.txt"))
        // Backups made straight at moto: only the mount's requests pass the proxy.
        var ids: [String] = []
        for _ in 0..<3 {
            let created = try SQBackupBinary.run(
                ["create", source, "--quiet"], environment: pool.environment(bucket: bucket))
            #expect(created.status == 0, "\(created.stderr)")
            ids.append(created.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let environment = pool.environment(bucket: bucket, endpoint: proxy.endpoint).merging(
            S3Transport.caVariables(["AWS_CA_BUNDLE": try TestCertificateAuthority.shared().certificatePath])
        ) { $1 }
        let mountpoint = work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        let refresh = 4.0
        let mounted = try SQBackupBinary.run(
            ["mount", "--all", mountpoint, "--refresh", String(refresh), "--cache-dir", work.child("cache")],
            environment: environment)
        #expect(mounted.status == 0, "\(mounted.stderr)")
        defer { _ = try? SQBackupBinary.run(["unmount", mountpoint]) }
        // nginx logs a request once its reply is sent, which can be after the client has it: wait
        // for the listings expected, then count everything.
        func logged(atLeast listings: Int) throws -> Counted {
            var counted = Counted(try proxy.accessLog(), bucket: bucket)
            let deadline = Date().addingTimeInterval(5)
            while counted.listings < listings && Date() < deadline {
                usleep(100_000)
                counted = Counted(try proxy.accessLog(), bucket: bucket)
            }
            return counted
        }
        #expect(try logged(atLeast: 1).listings == 1, "the mount checks the store once")

        // Past the mount's own listing: the first ls of this interval lists, the others reuse it.
        usleep(useconds_t((refresh + 0.5) * 1_000_000))
        try proxy.clearLog()
        let started = Date()
        for _ in 0..<5 {
            let names = try FileManager.default.contentsOfDirectory(atPath: mountpoint + "/by-id")
            #expect(names.sorted() == ids.sorted())
        }
        #expect(Date().timeIntervalSince(started) < refresh, "the machine is too slow for this interval")
        let interval = try logged(atLeast: 1)
        #expect(interval.listings == 1, "LISTs in one refresh interval: \(interval.listings)")
        #expect(interval.objects.isEmpty, "by-id/ fetched objects: \(interval.objects)")

        usleep(useconds_t((refresh + 0.5) * 1_000_000))
        #expect(try FileManager.default.contentsOfDirectory(atPath: mountpoint + "/by-id").count == ids.count)
        let next = try logged(atLeast: 2)
        #expect(next.listings == 2, "the next refresh: \(next.listings) LISTs in all")
        #expect(next.objects.isEmpty, "\(next.objects)")
    }
}

import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Fails when FUSE is missing, CI or not: these tests are what the mount command is for.
private func requireFuseStrictly() throws {
    if let reason = FuseCapability.missingReason {
        Issue.record("FUSE tests cannot run: \(reason)")
        throw CancellationError()
    }
}

private func waitUntil(_ condition: () -> Bool, seconds: Double = 10) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

private func daemonPID(for mountpoint: String) -> pid_t? {
    let output = (try? Shell.run(["pgrep", "-f", "sqbackup mount .* \(mountpoint) --foreground"]))?.stdout ?? ""
    return output.split(separator: "\n").first.flatMap { pid_t($0) }
}

@Suite("sqbackup mount and unmount, end to end", .serialized)
struct MountCommandTests {
    @Test("mount daemonizes, is ready on return, and unmount stops the daemon")
    func mountAndUnmount() throws {
        try requireFuseStrictly()
        let work = try TemporaryDirectory("cli-mount")
        defer { work.remove() }
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        var options = TestTree.Options()
        options.wideDirectoryEntries = 200
        try TestTree.populate(at: source, options: options)
        let image = work.child("image.sqsh")
        try SquashfsTools.mksquashfs(source, to: image)
        let mountpoint = work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)

        let mounted = try SQBackupBinary.run(["mount", image, mountpoint])
        #expect(mounted.status == 0, "\(mounted.stderr)")
        // Ready on return: no polling needed.
        #expect(MountTable.isMounted(mountpoint))
        #expect(TreeComparison().differences(expected: source, actual: mountpoint).isEmpty)
        let pid = daemonPID(for: mountpoint)
        #expect(pid != nil)

        let unmounted = try SQBackupBinary.run(["unmount", mountpoint])
        #expect(unmounted.status == 0, "\(unmounted.stderr)")
        #expect(!MountTable.isMounted(mountpoint))
        if let pid { #expect(waitUntil { kill(pid, 0) != 0 }, "daemon \(pid) still running after unmount") }
    }

    @Test("SIGTERM and SIGINT unmount cleanly", arguments: [SIGTERM, SIGINT])
    func signalUnmounts(signalNumber: Int32) throws {
        try requireFuseStrictly()
        let work = try TemporaryDirectory("cli-signal")
        defer { work.remove() }
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source + "/d", withIntermediateDirectories: true)
        try Data("x\n".utf8).write(to: URL(fileURLWithPath: source + "/d/x"))
        let image = work.child("image.sqsh")
        try SquashfsTools.mksquashfs(source, to: image)
        let mountpoint = work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        #expect(try SQBackupBinary.run(["mount", image, mountpoint]).status == 0)
        let pid = try #require(daemonPID(for: mountpoint))
        kill(pid, signalNumber)
        #expect(waitUntil { !MountTable.isMounted(mountpoint) }, "still mounted after signal \(signalNumber)")
        #expect(waitUntil { kill(pid, 0) != 0 }, "daemon still running after signal \(signalNumber)")
        var info = stat()
        #expect(stat(mountpoint, &info) == 0, "mountpoint left dead (ENOTCONN)")
    }

    @Test("bad input: clear error, non-zero exit, no mount left behind")
    func badInput() throws {
        try requireFuseStrictly()
        let work = try TemporaryDirectory("cli-bad")
        defer { work.remove() }
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try Data("x\n".utf8).write(to: URL(fileURLWithPath: source + "/x"))
        let image = work.child("image.sqsh")
        try SquashfsTools.mksquashfs(source, to: image)
        let junk = work.child("junk.img")
        try Data(TestTree.pseudoRandomBytes(count: 8192, seed: 1)).write(to: URL(fileURLWithPath: junk))
        let truncated = work.child("truncated.img")
        let whole = try Data(contentsOf: URL(fileURLWithPath: image))
        // Cut inside the used bytes (bytes_used at 40), not just the 4 KiB padding.
        let bytesUsed = Int(whole[40..<48].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        try Data(whole.prefix(bytesUsed - 20)).write(to: URL(fileURLWithPath: truncated))
        let mountpoint = work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)

        let cases: [([String], String)] = [
            (["mount", junk, mountpoint], "not a squashfs image"),
            (["mount", truncated, mountpoint], "truncated"),
            (["mount", work.child("missing.img"), mountpoint], "not found"),
            (["mount", image, work.child("no-such-dir")], "does not exist"),
            (["mount", image, source], "not empty"),
            (["mount", image, source + "/x"], "not a directory"),
            (["mount", image, mountpoint, "-o", "no_such_option"], "unknown option"),
            (["mount", image, mountpoint, "--memory-cache", "lots"], "invalid size"),
            (["unmount", mountpoint], "not a mountpoint"),
        ]
        for (arguments, message) in cases {
            let result = try SQBackupBinary.run(arguments)
            #expect(result.status != 0, "\(arguments) succeeded")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("Fatal error"), "\(arguments) crashed: \(result.stderr)")
            #expect(!MountTable.isMounted(mountpoint))
        }

        // Busy: a second mount on the same place is refused, the first keeps working.
        #expect(try SQBackupBinary.run(["mount", image, mountpoint]).status == 0)
        defer { _ = try? SQBackupBinary.run(["unmount", mountpoint]) }
        let second = try SQBackupBinary.run(["mount", image, mountpoint])
        #expect(second.status != 0 && second.stderr.contains("busy"), "\(second.stderr)")
        #expect((try? String(contentsOfFile: mountpoint + "/x", encoding: .utf8)) == "x\n")
    }

    @Test("status reports what the running daemon fetched, and forgets it after unmount")
    func statusFromDaemon() throws {
        try requireFuseStrictly()
        let work = try TemporaryDirectory("cli-status")
        defer { work.remove() }
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try Data(TestTree.pseudoRandomBytes(count: 3 << 20, seed: 4)).write(to: URL(fileURLWithPath: source + "/data"))
        let image = work.child("image.sqsh")
        try SquashfsTools.mksquashfs(source, to: image)
        let mountpoint = work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        #expect(try SQBackupBinary.run(["mount", image, mountpoint]).status == 0)
        defer { _ = try? SQBackupBinary.run(["unmount", mountpoint]) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: mountpoint + "/data")).count == 3 << 20)

        let result = try SQBackupBinary.run(["status", mountpoint, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let decoded = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(decoded?["lazyRoots"] as? [Any] != nil)
        let status = try #require((decoded?["mounts"] as? [[String: Any]])?.first)
        #expect(status["mountpoint"] as? String == mountpoint)
        #expect((status["rangeRequests"] as? Int ?? 0) >= 1)
        #expect((status["bytesFetched"] as? Int ?? 0) >= 3 << 20)
        #expect(status["latencyP50"] is Double)
        let text = try SQBackupBinary.run(["status"])
        #expect(text.stdout.contains(mountpoint) && text.stdout.contains("cache hits"))

        #expect(try SQBackupBinary.run(["unmount", mountpoint]).status == 0)
        #expect(waitUntil { !(try! SQBackupBinary.run(["status"]).stdout.contains(mountpoint)) })
        let gone = try SQBackupBinary.run(["status", mountpoint])
        #expect(gone.status != 0 && gone.stderr.contains("no sqbackup mount"))
    }

    @Test("a corrupt block gives EIO for that read; the daemon keeps serving")
    func corruptBlockEIO() throws {
        try requireFuseStrictly()
        let work = try TemporaryDirectory("cli-eio")
        defer { work.remove() }
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        var text = [UInt8]()
        while text.count < 600_000 { text += Array("line \(text.count) of text\n".utf8) }
        try Data(text).write(to: URL(fileURLWithPath: source + "/a.txt"))
        try Data("fine\n".utf8).write(to: URL(fileURLWithPath: source + "/b.txt"))
        let image = work.child("image.sqsh")
        try SquashfsTools.mksquashfs(source, to: image, compressor: "zstd")
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: image))
        try handle.seek(toOffset: 112)
        try handle.write(contentsOf: Data(TestTree.pseudoRandomBytes(count: 48, seed: 3)))
        try handle.close()
        let mountpoint = work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        #expect(try SQBackupBinary.run(["mount", image, mountpoint]).status == 0)
        defer { _ = try? SQBackupBinary.run(["unmount", mountpoint]) }

        let fd = open(mountpoint + "/a.txt", O_RDONLY)
        #expect(fd >= 0)
        var buffer = [UInt8](repeating: 0, count: 4096)
        #expect(pread(fd, &buffer, 4096, 0) == -1 && errno == EIO)
        #expect(pread(fd, &buffer, 10, 500_000) == 10)
        close(fd)
        #expect((try? String(contentsOfFile: mountpoint + "/b.txt", encoding: .utf8)) == "fine\n")
    }
}

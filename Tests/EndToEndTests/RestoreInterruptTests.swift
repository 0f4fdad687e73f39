import BackupTestSupport
import Foundation
import SQBackup
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Restores from moto through a proxy adding 700 ms (or more) each way, so that a restore is
/// caught mid-way: every data request takes at least 1.4 s.
@Suite("sqbackup restore: interrupted, busy, partial", .serialized)
struct RestoreInterruptTests {
    private struct Slow {
        var work: TemporaryDirectory
        var source: String
        var id: String
        var proxy: DelayProxy
        /// Through the proxy.
        var environment: [String: String]
        /// Straight to moto.
        var direct: [String: String]
    }

    private func slowBackup(_ label: String, delayMilliseconds: Double = 700) throws -> Slow {
        let work = try TemporaryDirectory(label)
        let source = try CreateFixture.standardTree(in: work)
        // Data beyond what opening the image fetches (its head and tail), so the copy must wait.
        try FileManager.default.createDirectory(atPath: source + "/random", withIntermediateDirectories: true)
        for index in 0..<16 {
            let bytes = TestTree.pseudoRandomBytes(count: 1 << 20, seed: UInt64(index + 1))
            try Data(bytes).write(to: URL(fileURLWithPath: source + "/random/f\(index)"))
        }
        let pool = try S3BucketPool.shared()
        let bucket = try pool.takeBucket()
        let state = ["SQBACKUP_STATE_DIR": work.child("state")]
        let created = try SQBackupBinary.run(
            ["create", source, "--json"], environment: pool.environment(bucket: bucket).merging(state) { $1 })
        try #require(created.status == 0, "\(created.stderr)")
        let backup = try BackupJSON.decoder().decode(DirectoryBackup.self, from: Data(created.stdout.utf8))
        let proxy = try DelayProxy(upstreamPort: pool.port, delayMilliseconds: delayMilliseconds)
        func environment(_ endpoint: String) -> [String: String] {
            ProcessInfo.processInfo.environment.merging(
                pool.environment(bucket: bucket, endpoint: endpoint).merging(state) { $1 }
            ) { $1 }
        }
        return Slow(
            work: work, source: source, id: backup.id, proxy: proxy, environment: environment(proxy.endpoint),
            direct: environment(pool.endpoint))
    }

    private func start(_ arguments: [String], environment: [String: String]) throws -> (process: Process, errors: Pipe)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: SQBackupBinary.path)
        process.arguments = arguments
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return (process, errors)
    }

    /// Waits until `condition` holds (polling every 10 ms) or `process` exits; true when it held.
    private func waitFor(_ process: Process, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline && process.isRunning {
            if condition() { return true }
            usleep(10_000)
        }
        return false
    }

    private func finish(_ started: (process: Process, errors: Pipe)) throws -> String {
        try #require(started.process.waitForExit(timeout: 120), "sqbackup did not exit within 120 s")
        return String(decoding: started.errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    @Test("SIGINT mid-way: a new target is not created, no hidden tree is left, OPERATION_INTERRUPTED, exit 130")
    func interruptFresh() throws {
        let slow = try slowBackup("cli-restore-sigint")
        defer { slow.work.remove() }
        let parent = slow.work.child("parent")
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let restore = try start(["restore", slow.id, "--target", parent + "/t"], environment: slow.environment)
        let building = waitFor(restore.process) {
            !RestoreCommandTests.entries(parent).filter { $0.hasPrefix(".t.sqbackup-restore-") }.isEmpty
        }
        #expect(building, "the restore never started building its tree")
        kill(restore.process.processIdentifier, SIGINT)
        let stderr = try finish(restore)
        #expect(restore.process.terminationStatus == 130, "\(stderr)")
        #expect(stderr.contains("OPERATION_INTERRUPTED: interrupted by SIGINT"), "\(stderr)")
        #expect(stderr.contains("was left as it was"), "\(stderr)")
        #expect(RestoreCommandTests.entries(parent) == [], "neither the target nor the hidden tree is there")
    }

    @Test("SIGTERM mid-way in place: each file old or restored, nothing removed, no temporaries, exit 130")
    func interruptInPlace() throws {
        let slow = try slowBackup("cli-restore-sigterm")
        defer { slow.work.remove() }
        let target = slow.work.child("target")
        try Shell.check(["cp", "-a", slow.source, target])
        // Every file differs from the snapshot by its mtime, so that every one is rewritten.
        let old: Int = 1_000_000_000
        try Shell.check(["find", target, "-type", "f", "-exec", "touch", "-d", "@\(old)", "{}", "+"])
        try Data("not in the backup\n".utf8).write(to: URL(fileURLWithPath: target + "/extra.txt"))

        let restore = try start(["restore", slow.id, "--target", target, "--force"], environment: slow.environment)
        let writing = waitFor(restore.process) {
            TreeComparison.walk(target).contains { $0.split(separator: "/").last?.hasPrefix(".sqbackup-") == true }
        }
        #expect(writing, "the restore never started writing a file")
        kill(restore.process.processIdentifier, SIGTERM)
        let stderr = try finish(restore)
        #expect(restore.process.terminationStatus == 130, "\(stderr)")
        #expect(stderr.contains("OPERATION_INTERRUPTED: interrupted by SIGTERM"), "\(stderr)")
        #expect(stderr.contains("nothing removed"), "\(stderr)")
        #expect(FileManager.default.fileExists(atPath: target + "/extra.txt"), "extras go only at the end")
        #expect(TreeComparison.walk(target).filter { $0.contains(".sqbackup-") } == [])
        var kept = 0
        for relative in TreeComparison.walk(slow.source) {
            var info = stat()
            guard lstat(slow.source + "/" + relative, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            var now = stat()
            #expect(lstat(target + "/" + relative, &now) == 0, "\(relative) is missing")
            #expect(TreeComparison.contentDifference(slow.source + "/" + relative, target + "/" + relative) == nil)
            if now.st_mtim.tv_sec == old { kept += 1 } else { #expect(now.st_mtim.tv_sec == info.st_mtim.tv_sec) }
        }
        #expect(kept > 0, "the stop came before every file was replaced")
    }

    @Test("verify, SIGINT while it reads: OPERATION_INTERRUPTED naming the signal, exit 130, the next ids unchecked")
    func interruptVerify() throws {
        let slow = try slowBackup("cli-verify-sigint")
        defer { slow.work.remove() }
        // One range at a time, each over 1.4 s: the reads take several seconds.
        let verify = try start(["verify", slow.id, slow.id, "--parallel", "1"], environment: slow.environment)
        // Past the image's head and tail (128 KiB and the metadata): its ranges are being read.
        let reading = waitFor(verify.process) { ((try? slow.proxy.stats())?.bytesDown ?? 0) > 1 << 20 }
        #expect(reading, "the verify never started reading")
        kill(verify.process.processIdentifier, SIGINT)
        let stderr = try finish(verify)
        #expect(verify.process.terminationStatus == 130, "\(stderr)")
        #expect(stderr.contains("OPERATION_INTERRUPTED: interrupted by SIGINT; the verify stopped"), "\(stderr)")
        #expect(stderr.components(separatedBy: "OPERATION_INTERRUPTED").count == 2, "\(stderr)")
    }

    @Test("a second restore of a directory being restored fails with BACKUP_BUSY; --wait waits; SIGKILL releases")
    func busyWaitAndKill() throws {
        // The first restore goes through a slow proxy (6 s a request); the others straight to moto.
        let slow = try slowBackup("cli-restore-busy", delayMilliseconds: 3000)
        defer { slow.work.remove() }
        let parent = slow.work.child("parent")
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let target = parent + "/t"
        let first = try start(["restore", slow.id, "--target", target], environment: slow.environment)
        defer { if first.process.isRunning { kill(first.process.processIdentifier, SIGKILL) } }
        let building = waitFor(first.process) {
            !RestoreCommandTests.entries(parent).filter { $0.hasPrefix(".t.sqbackup-restore-") }.isEmpty
        }
        try #require(building, "the first restore never started building its tree")

        let second = try SQBackupBinary.run(["restore", slow.id, "--target", target], environment: slow.direct)
        #expect(second.status == 7)
        #expect(
            second.stderr.contains(
                "BACKUP_BUSY: \(target) is busy: a restore (pid \(first.process.processIdentifier)) of it is running"),
            "\(second.stderr)")
        #expect(second.stderr.contains("--wait"), "the CLI names its way out")

        let waiting = try start(
            ["restore", slow.id, "--target", target, "--force", "--wait"], environment: slow.direct)
        usleep(500_000)
        #expect(waiting.process.isRunning, "--wait returned while the first restore held the directory")
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        let stderr = try finish(waiting)
        #expect(waiting.process.terminationStatus == 0, "\(stderr)")
        #expect(TreeComparison().differences(expected: slow.source, actual: target) == [])
        #expect(RestoreCommandTests.entries(parent) == ["t"], "the killed restore's hidden tree was removed")
    }
}

import BackupTestSupport
import Foundation
import SQBackup
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `restore --lazy`: an overlay over a lazy mount, checked through the kernel.
@Suite("sqbackup restore --lazy, end to end", .serialized)
struct LazyRestoreCommandTests {
    private struct Printed: Decodable {
        var dir: String
        var lazy: Bool
        var stateDir: String
        var upperDir: String
        var hydrating: Bool
        var duration: Double
    }

    private struct Fixture {
        let work: TemporaryDirectory
        let source: String
        let store: [String]
        let environment: [String: String]
        let id: String
    }

    /// Skips (loudly) without root or FUSE: kernel overlayfs needs root. CI runs as root.
    private func makeFixture(_ label: String) throws -> Fixture {
        if let reason = FuseCapability.missingReason ?? (getuid() == 0 ? nil : "not root (overlayfs needs it)") {
            Issue.record("lazy restore tests cannot run: \(reason)")
            throw CancellationError()
        }
        let work = try TemporaryDirectory(label)
        let source = try CreateFixture.standardTree(in: work)
        let store = ["--store", "file://\(work.child("store"))"]
        let environment = [
            "SQBACKUP_STATE_DIR": work.child("state"), "XDG_CACHE_HOME": work.child("cache"),
        ]
        let created = try SQBackupBinary.run(["create", source, "--json"] + store)
        #expect(created.status == 0, "\(created.stderr)")
        let backup = try BackupJSON.decoder().decode(DirectoryBackup.self, from: Data(created.stdout.utf8))
        return Fixture(work: work, source: source, store: store, environment: environment, id: backup.id)
    }

    /// Runs a command with the fixture's store (for commands that take one) and state directory.
    private func run(_ fixture: Fixture, _ arguments: [String]) throws -> Shell.Output {
        let store = ["unmount", "status"].contains(arguments.first) ? [] : fixture.store
        return try SQBackupBinary.run(arguments + store, environment: fixture.environment)
    }

    /// `restore IMAGE --target TARGET --lazy --json` (plus `extra`), expected to succeed.
    private func restoreLazily(_ fixture: Fixture, _ image: String, to target: String, _ extra: [String] = [])
        throws -> Printed
    {
        let restored = try run(fixture, ["restore", image, "--target", target, "--lazy", "--json"] + extra)
        #expect(restored.status == 0, "\(restored.stderr)")
        return try JSONDecoder().decode(Printed.self, from: Data(restored.stdout.utf8))
    }

    private func filesystemType(_ path: String) throws -> String {
        try Shell.check(["stat", "-f", "-c", "%T", path]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The per-mount options (`rw,nosuid,…`) of the mount at `path`.
    private func mountOptions(at path: String) throws -> [String] {
        let line = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8).split(separator: "\n")
            .last { $0.split(separator: " ")[4] == path }
        return line.map { $0.split(separator: " ")[5].split(separator: ",").map(String.init) } ?? []
    }

    private func mountCount(under path: String) throws -> Int {
        try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8).split(separator: "\n")
            .filter { $0.split(separator: " ")[4].hasPrefix(path) }.count
    }

    @Test("--lazy --target: the snapshot at once, writes in the upper layer, the lower read-only; unmount removes all")
    func lazyTemplateRoot() throws {
        let fixture = try makeFixture("lazy-root")
        defer { fixture.work.remove() }
        let target = fixture.work.child("root")
        let printed = try restoreLazily(fixture, fixture.id, to: target)
        defer { _ = try? run(fixture, ["unmount", target, "--lazy"]) }
        #expect(printed.dir == target && printed.lazy && !printed.hydrating)
        #expect(printed.stateDir.hasPrefix(fixture.work.child("state")))
        #expect(try filesystemType(target) == "overlayfs")
        // An image is untrusted: its setuid bits and device nodes must not count in the root.
        let options = try mountOptions(at: target)
        #expect(options.contains("nosuid") && options.contains("nodev"), "\(options)")
        #expect(TreeComparison().differences(expected: fixture.source, actual: target) == [])

        let lower = printed.stateDir + "/lower"
        #expect(try filesystemType(lower) == "fuseblk" || filesystemType(lower) == "fuse")
        #expect(FileManager.default.createFile(atPath: lower + "/x", contents: Data()) == false, "lower is read-only")

        // A new file, a changed file and a renamed snapshot directory: all land in the upper layer.
        let changed = try #require(
            try FileManager.default.contentsOfDirectory(atPath: target).sorted().first {
                var info = stat()
                return lstat(target + "/" + $0, &info) == 0 && info.st_mode & S_IFMT == S_IFREG && info.st_size > 0
            })
        let original = try Data(contentsOf: URL(fileURLWithPath: target + "/" + changed))
        try Data("new\n".utf8).write(to: URL(fileURLWithPath: target + "/added.txt"))
        try Data("changed\n".utf8).write(to: URL(fileURLWithPath: target + "/" + changed))
        let directory = try #require(
            try FileManager.default.contentsOfDirectory(atPath: target).sorted().first {
                var info = stat()
                return lstat(target + "/" + $0, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
            })
        #expect(rename(target + "/" + directory, target + "/renamed-dir") == 0, "\(String(cString: strerror(errno)))")
        #expect(FileManager.default.fileExists(atPath: printed.upperDir + "/added.txt"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: printed.upperDir + "/" + changed)) == Data("changed\n".utf8))
        #expect(try Data(contentsOf: URL(fileURLWithPath: lower + "/" + changed)) == original, "the snapshot is intact")
        #expect(FileManager.default.fileExists(atPath: lower + "/" + directory))

        let again = try run(fixture, ["restore", fixture.id, "--target", target, "--lazy"])
        #expect(again.status == 1 && again.stderr.contains("already holds a lazy root"), "\(again.stderr)")

        let unmounted = try run(fixture, ["unmount", target])
        #expect(unmounted.status == 0, "\(unmounted.stderr)")
        #expect(!FileManager.default.fileExists(atPath: target), "the target it created is gone again")
        #expect(!FileManager.default.fileExists(atPath: printed.stateDir))
        #expect(try mountCount(under: fixture.work.path) == 0)
    }

    @Test("a root whose overlay is gone (reboot, killed restore) is cleared by the next restore; --preserve-setuid")
    func orphanedRoot() throws {
        let fixture = try makeFixture("lazy-orphan")
        defer { fixture.work.remove() }
        let target = fixture.work.child("root")
        let printed = try restoreLazily(fixture, fixture.id, to: target)
        defer { _ = try? run(fixture, ["unmount", target, "--lazy"]) }
        // What a reboot or a killed restore leaves: the record, the lower mount, no overlay.
        #expect(umount2(target, 0) == 0)
        let status = try run(fixture, ["status", target])
        #expect(status.stdout.contains("not mounted"), "\(status.stdout)")

        let again = try run(fixture, ["restore", fixture.id, "--target", target, "--lazy", "--preserve-setuid"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try filesystemType(target) == "overlayfs")
        #expect(!(try mountOptions(at: target)).contains("nosuid"), "trusted on request")
        #expect(try mountCount(under: printed.stateDir) == 1, "one lower mount, the old one is gone")
        #expect(TreeComparison().differences(expected: fixture.source, actual: target) == [])

        #expect(try run(fixture, ["unmount", target]).status == 0)
        #expect(try mountCount(under: fixture.work.path) == 0)
        #expect(!FileManager.default.fileExists(atPath: printed.stateDir))
    }

    @Test("--lazy without --target rolls the original directory back; unmount brings the covered contents back")
    func lazyRollback() throws {
        let fixture = try makeFixture("lazy-rollback")
        defer { fixture.work.remove() }
        try Data("after the backup\n".utf8).write(to: URL(fileURLWithPath: fixture.source + "/later.txt"))
        let covered = try FileManager.default.contentsOfDirectory(atPath: fixture.source).sorted()

        let restored = try run(fixture, ["restore", fixture.id, "--lazy"])
        #expect(restored.status == 0, "\(restored.stderr)")
        defer { _ = try? run(fixture, ["unmount", fixture.source, "--lazy"]) }
        #expect(try filesystemType(fixture.source) == "overlayfs")
        #expect(!FileManager.default.fileExists(atPath: fixture.source + "/later.txt"))

        let unmounted = try run(fixture, ["unmount", fixture.source])
        #expect(unmounted.status == 0, "\(unmounted.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.source).sorted() == covered)
    }

    @Test(
        "--hydrate copies every file (hard links kept) into the upper layer; the root then reads without the image server"
    )
    func hydrate() throws {
        let fixture = try makeFixture("lazy-hydrate")
        defer { fixture.work.remove() }
        let served = fixture.work.child("served")
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        let image = try #require(
            try FileManager.default.subpathsOfDirectory(atPath: fixture.work.child("store")).first {
                $0.hasSuffix("data.sqsh")
            })
        try FileManager.default.copyItem(
            atPath: fixture.work.child("store") + "/" + image, toPath: served + "/image.sqsh")
        let server = try RangeServer(directory: served)
        var stopped = false
        defer { if !stopped { server.stop() } }

        let target = fixture.work.child("root")
        let printed = try restoreLazily(fixture, server.url(for: "image.sqsh"), to: target, ["--hydrate"])
        defer { _ = try? run(fixture, ["unmount", target, "--lazy"]) }
        #expect(printed.hydrating)

        struct State: Decodable {
            struct Progress: Decodable {
                var filesTotal: Int
                var filesDone: Int
                var failed: [String]
                var finished: Bool
            }
            var progress: Progress
        }
        let deadline = Date().addingTimeInterval(60)
        var state: State?
        while Date() < deadline {
            if let data = FileManager.default.contents(atPath: printed.stateDir + "/hydration.json") {
                state = try? JSONDecoder().decode(State.self, from: data)
                if state?.progress.finished == true { break }
            }
            usleep(100_000)
        }
        let progress = try #require(state?.progress)
        #expect(progress.finished && progress.failed == [] && progress.filesDone == progress.filesTotal)
        #expect(progress.filesTotal > 50)

        // status --json shows the root with its hydration, and the mount under it.
        for arguments in [["status", "--json"], ["status", target, "--json"]] {
            let status = try jsonObject(try run(fixture, arguments).stdout)
            let roots = status["lazyRoots"] as? [[String: Any]] ?? []
            let root = try #require(roots.first { $0["target"] as? String == target }, "\(arguments): \(status)")
            #expect(root["mounted"] as? Bool == true && root["upper"] as? String == printed.upperDir)
            let hydration = root["hydration"] as? [String: Any]
            #expect(hydration?["state"] as? String == "done", "\(root)")
            #expect(hydration?["filesDone"] as? Int == progress.filesDone)
            let mounts = status["mounts"] as? [[String: Any]] ?? []
            #expect(mounts.contains { $0["mountpoint"] as? String == root["lower"] as? String }, "\(status)")
        }

        // Every file with data is a real file in the upper layer now, equal to the source.
        var copied = 0
        for relative in try FileManager.default.subpathsOfDirectory(atPath: fixture.source) {
            var info = stat()
            guard lstat(fixture.source + "/" + relative, &info) == 0, info.st_mode & S_IFMT == S_IFREG,
                info.st_size > 0
            else { continue }
            let upper = FileManager.default.contents(atPath: printed.upperDir + "/" + relative)
            #expect(upper == FileManager.default.contents(atPath: fixture.source + "/" + relative), "\(relative)")
            copied += 1
        }
        #expect(copied == progress.filesTotal)

        // No server and no disk cache: the root still reads completely.
        server.stop()
        stopped = true
        try? FileManager.default.removeItem(atPath: fixture.work.child("cache"))
        _ = try? Shell.run(["sh", "-c", "echo 3 > /proc/sys/vm/drop_caches"])
        #expect(TreeComparison().differences(expected: fixture.source, actual: target) == [])

        #expect(try run(fixture, ["unmount", target]).status == 0)
        #expect(try mountCount(under: fixture.work.path) == 0)
    }

    @Test("bad input: a non-empty --target, an unknown id, --hydrate alone, no root")
    func badInput() throws {
        let fixture = try makeFixture("lazy-bad")
        defer { fixture.work.remove() }
        let busy = try run(fixture, ["restore", fixture.id, "--target", fixture.source, "--lazy"])
        #expect(busy.status == 1 && busy.stderr.contains("target directory exists"), "\(busy.stderr)")
        let unknown = try run(
            fixture, ["restore", "00000000-0000-4000-8000-000000000000", "--target", fixture.work.child("u"), "--lazy"])
        #expect(unknown.status == 4 && unknown.stderr.contains("BACKUP_NOT_FOUND"), "\(unknown.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fixture.work.child("u")))
        let alone = try run(fixture, ["restore", fixture.id, "--target", fixture.work.child("h"), "--hydrate"])
        #expect(alone.status != 0 && alone.stderr.contains("--hydrate goes with --lazy"), "\(alone.stderr)")
        // Without root: a clear refusal before anything is touched (setpriv drops to nobody; the
        // binary is copied where nobody can run it, the build directory may be private).
        let binary = "/tmp/sqbackup-as-nobody-\(getpid())"
        try? FileManager.default.removeItem(atPath: binary)
        try FileManager.default.copyItem(atPath: SQBackupBinary.path, toPath: binary)
        defer { try? FileManager.default.removeItem(atPath: binary) }
        chmod(binary, 0o755)
        let asNobody = try Shell.run(
            [
                "setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", binary, "restore",
                fixture.id, "--target", fixture.work.child("n"), "--lazy",
            ] + fixture.store)
        #expect(asNobody.status == 1 && asNobody.stderr.contains("--lazy needs root"), "\(asNobody.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fixture.work.child("n")))
        #expect(try mountCount(under: fixture.work.path) == 0)
        #expect(
            ((try? FileManager.default.contentsOfDirectory(atPath: fixture.work.child("state") + "/roots")) ?? [])
                .filter { !$0.hasSuffix(".lock") } == [],
            "no state directory left (lock files stay)")
    }
}

import Foundation
import SQBackup
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A local store with backups made by `sqbackup create`, and a mountpoint for `mount --all`.
private struct BrowseFixture {
    let work: TemporaryDirectory
    let storeRoot: String
    let mountpoint: String
    var storeArguments: [String] { ["--store", "file://" + storeRoot] }

    init() throws {
        work = try TemporaryDirectory("cli-browse")
        storeRoot = work.child("store")
        mountpoint = work.child("mnt")
        for directory in [storeRoot, mountpoint] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
    }

    /// A small tree named `name`, backed up; returns the backup and its source.
    func backup(_ name: String, sandbox: String = "sandbox-a") throws -> (backup: DirectoryBackup, source: String) {
        let source = work.child("src-" + name)
        try FileManager.default.createDirectory(atPath: source + "/dir", withIntermediateDirectories: true)
        try Data("\(name)\n".utf8).write(to: URL(fileURLWithPath: source + "/dir/name.txt"))
        try Data(TestTree.pseudoRandomBytes(count: 150_000, seed: UInt64(name.utf8.count)))
            .write(to: URL(fileURLWithPath: source + "/blob"))
        try FileManager.default.createSymbolicLink(atPath: source + "/link", withDestinationPath: "dir/name.txt")
        let created = try run(["create", source, "--sandbox-id", sandbox, "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        return (try BackupJSON.decoder().decode(DirectoryBackup.self, from: Data(created.stdout.utf8)), source)
    }

    /// Runs a command that takes store flags (the first argument is the command).
    func run(_ arguments: [String]) throws -> Shell.Output {
        try SQBackupBinary.run(
            [arguments[0]] + storeArguments + arguments.dropFirst(),
            environment: ["SQBACKUP_STORE": "", "SQBACKUP_STORE_DIR": ""])
    }

    func names(_ relative: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: mountpoint + "/" + relative)) ?? []).sorted()
    }

    func status() throws -> [String: Any]? {
        let result = try SQBackupBinary.run(["status", mountpoint, "--json"])
        let decoded = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return (decoded?["mounts"] as? [[String: Any]])?.first
    }

    /// Where by-date/ puts a backup, relative to the mountpoint.
    static func datePath(_ backup: DirectoryBackup) -> String {
        let browsed = BrowsedBackupName(backup)
        return "by-date/\(browsed.day)/\(browsed.time)"
    }
}

/// The by-date names, computed here with Foundation's calendar (not the code under test's gmtime).
private struct BrowsedBackupName {
    let day: String
    let time: String

    init(_ backup: DirectoryBackup) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: backup.createdAt)
        day = String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
        time = String(format: "%02d%02d%02d-", parts.hour!, parts.minute!, parts.second!) + backup.id
    }
}

private func waitUntil(seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        guard Date() < deadline else { return false }
        usleep(50_000)
    }
    return true
}

private func fuseAvailable() throws -> Bool {
    guard let reason = FuseCapability.missingReason else { return true }
    Issue.record("FUSE tests cannot run: \(reason)")
    throw CancellationError()
}

@Suite("sqbackup mount --all, end to end", .serialized)
struct BrowseMountCommandTests {
    @Test("by-id, by-date and latest equal their sources; new, deleted and expired backups follow the refresh")
    func browseFollowsTheStore() throws {
        guard try fuseAvailable() else { return }
        let setup = try BrowseFixture()
        defer { setup.work.remove() }
        let first = try setup.backup("first", sandbox: "sandbox-a")
        let second = try setup.backup("second", sandbox: "sandbox-b")
        let mounted = try setup.run(["mount", "--all", setup.mountpoint, "--refresh", "1"])
        #expect(mounted.status == 0, "\(mounted.stderr)")
        defer { _ = try? SQBackupBinary.run(["unmount", setup.mountpoint]) }

        #expect(setup.names("") == ["by-date", "by-id", "by-sandbox", "latest"])
        #expect(setup.names("by-id") == [first.backup.id, second.backup.id].sorted())
        var comparison = TreeComparison()
        comparison.compareRoot = false
        for (backup, source) in [first, second] {
            let byID = setup.mountpoint + "/by-id/" + backup.id
            #expect(comparison.differences(expected: source, actual: byID).isEmpty, "by-id/\(backup.id)")
            let byDate = setup.mountpoint + "/" + BrowseFixture.datePath(backup)
            #expect(TreeComparison.readLink(byDate) == "../../by-id/" + backup.id)
            #expect(comparison.differences(expected: source, actual: byDate + "/").isEmpty, "\(byDate)")
            #expect(
                TreeComparison.readLink(setup.mountpoint + "/by-sandbox/\(backup.sandboxId)/\(backup.id)")
                    == "../../by-id/" + backup.id)
        }
        let newest = [first, second].max { ($0.backup.createdAt, $0.backup.id) < ($1.backup.createdAt, $1.backup.id) }!
        #expect(TreeComparison.readLink(setup.mountpoint + "/latest") == "by-id/" + newest.backup.id)
        #expect(comparison.differences(expected: newest.source, actual: setup.mountpoint + "/latest/").isEmpty)

        // A backup made after the mount appears, and becomes latest.
        let third = try setup.backup("third")
        #expect(waitUntil { setup.names("by-id").contains(third.backup.id) }, "\(setup.names("by-id"))")
        #expect(waitUntil { TreeComparison.readLink(setup.mountpoint + "/latest") == "by-id/" + third.backup.id })
        #expect(
            try String(contentsOfFile: setup.mountpoint + "/latest/dir/name.txt", encoding: .utf8) == "third\n")

        // A deleted one disappears.
        #expect(try setup.run(["delete", first.backup.id]).status == 0)
        #expect(waitUntil { !setup.names("by-id").contains(first.backup.id) }, "\(setup.names("by-id"))")
        #expect(!FileManager.default.fileExists(atPath: setup.mountpoint + "/by-id/" + first.backup.id))

        // An expired one (its meta.json says so now) is hidden from every view.
        let metaPath = setup.storeRoot + "/backups/\(second.backup.id)/meta.json"
        var meta =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: metaPath))) as! [String: Any]
        meta["expiresAt"] = "2000-01-01T00:00:00Z"
        try JSONSerialization.data(withJSONObject: meta).write(to: URL(fileURLWithPath: metaPath))
        let secondDay = BrowsedBackupName(second.backup).day
        #expect(waitUntil { !setup.names("by-date/" + secondDay).contains(BrowsedBackupName(second.backup).time) })
        #expect(waitUntil { !FileManager.default.fileExists(atPath: setup.mountpoint + "/by-id/" + second.backup.id) })
        #expect(!setup.names("by-id").contains(second.backup.id))
        #expect(setup.names("by-sandbox/sandbox-b").isEmpty)

        // Plain umount ends it, like a single mount.
        let unmounted = try Shell.run(["umount", setup.mountpoint])
        #expect(unmounted.status == 0, "\(unmounted.stderr)")
        #expect(!MountTable.isMounted(setup.mountpoint))
    }

    @Test("the source word all, --max-open 1 and status: at most one image open, status lists it")
    func maxOpenAndStatus() throws {
        guard try fuseAvailable() else { return }
        let setup = try BrowseFixture()
        defer { setup.work.remove() }
        let backups = try ["one", "two"].map { try setup.backup($0) }
        let mounted = try setup.run(["mount", "all", setup.mountpoint, "--max-open", "1"])
        #expect(mounted.status == 0, "\(mounted.stderr)")
        defer { _ = try? SQBackupBinary.run(["unmount", setup.mountpoint]) }
        #expect(MountTable.isMounted(setup.mountpoint))
        #expect(try setup.status()?["openImages"] as? [String] == [])

        for _ in 0..<2 {
            for (backup, source) in backups {
                let blob = setup.mountpoint + "/by-id/\(backup.id)/blob"
                #expect(TreeComparison.contentDifference(source + "/blob", blob) == nil)
                let status = try #require(try setup.status())
                let open = status["openImages"] as? [String]
                #expect(open == [backup.id], "\(status)")
                #expect((status["bytesFetched"] as? Int ?? 0) > 0)
            }
        }
        let text = try SQBackupBinary.run(["status"])
        #expect(text.stdout.contains("open images (1): " + backups[1].backup.id), "\(text.stdout)")

        let unmounted = try SQBackupBinary.run(["unmount", setup.mountpoint])
        #expect(unmounted.status == 0, "\(unmounted.stderr)")
    }

    @Test("bad input to mount --all: a clear error and no mount")
    func badInput() throws {
        guard try fuseAvailable() else { return }
        let setup = try BrowseFixture()
        defer { setup.work.remove() }
        let cases: [([String], String)] = [
            (["mount", "--all", "image.sqsh", setup.mountpoint], "give only the mountpoint"),
            (["mount", "--all", setup.mountpoint, "--max-open", "0"], "--max-open"),
            (["mount", "--all", setup.mountpoint, "--refresh", "-1"], "--refresh"),
            (["mount", "--all", setup.mountpoint, "--meta", "novalue"], "KEY=VALUE"),
            (["mount", "--all", setup.work.child("missing")], "does not exist"),
            (["mount", "image.sqsh"], "mountpoint"),
        ]
        for (arguments, message) in cases {
            let result = try setup.run(arguments)
            #expect(result.status != 0, "\(arguments) succeeded")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("Fatal error"), "\(arguments) crashed: \(result.stderr)")
            #expect(!MountTable.isMounted(setup.mountpoint))
        }
    }
}

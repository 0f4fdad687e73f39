import BackupTestSupport
import Foundation
import SQBackup
import TestSupport
import Testing

/// Parses one JSON object (stdout of a command, or one line of its stderr).
func jsonObject(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8))
    return try #require(parsed as? [String: Any], "not a JSON object: \(text)", sourceLocation: sourceLocation)
}

/// Parses a JSON array of objects.
func jsonArray(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
    let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8))
    return try #require(parsed as? [[String: Any]], "not a JSON array: \(text)", sourceLocation: sourceLocation)
}

@Suite("--json on every command, end to end", .serialized)
struct JSONOutputTests {
    @Test("create, list, show, verify, restore, mount, status, unmount, prune and delete each print one JSON document")
    func everyCommand() throws {
        guard try requireFuse() else { return }
        let work = try TemporaryDirectory("cli-json")
        defer { work.remove() }
        let fixture = try CatalogStoreKind.local.make()
        defer { fixture.cleanup() }
        let source = try CreateFixture.standardTree(in: work)

        let created = try fixture.run(["create", source, "--json", "--description", "json"])
        #expect(created.status == 0, "\(created.stderr)")
        let backup = try jsonObject(created.stdout)
        let id = try #require(backup["id"] as? String)
        #expect(backup["dir"] as? String == source && backup["description"] as? String == "json")
        #expect(
            (backup["sizeBytes"] as? Int ?? 0) > 0 && backup["createdAt"] is String && backup["expiresAt"] is String)

        let listed = try jsonArray(try fixture.run(["list", "--json"]).stdout)
        #expect(listed.map { $0["id"] as? String } == [id])
        let shown = try jsonObject(try fixture.run(["show", id, "--json"]).stdout)
        #expect(shown["id"] as? String == id && shown["compressor"] as? String == "zstd")
        let verified = try fixture.run(["verify", id, "--json"])
        #expect(verified.status == 0, "\(verified.stderr)")
        let reports = try jsonArray(verified.stdout)
        #expect(reports.first?["id"] as? String == id && reports.first?["ok"] as? Bool == true)

        let target = work.child("restored")
        let restored = try fixture.run(["restore", id, "--target", target, "--json"])
        #expect(restored.status == 0, "\(restored.stderr)")
        let result = try jsonObject(restored.stdout)
        #expect(result["dir"] as? String == target && (result["filesRestored"] as? Int ?? 0) > 300)
        #expect(result["partial"] as? Bool == false && result["verified"] as? Bool == true)

        let mountpoint = work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        let mounted = try fixture.run(["mount", id, mountpoint, "--json"])
        #expect(mounted.status == 0, "\(mounted.stderr)")
        defer { _ = try? SQBackupBinary.run(["unmount", "--lazy", mountpoint]) }
        let mount = try jsonObject(mounted.stdout)
        #expect(mount["mountpoint"] as? String == mountpoint && mount["image"] as? String == id)
        #expect((mount["pid"] as? Int ?? 0) > 1 && mount["foreground"] as? Bool == false)
        #expect(mount["verified"] as? Bool == true && (mount["warnings"] as? [String]) == [])
        #expect(MountTable.isMounted(mountpoint))

        let status = try jsonObject(try SQBackupBinary.run(["status", mountpoint, "--json"]).stdout)
        #expect(status["lazyRoots"] as? [Any] != nil, "\(status)")
        let statuses = status["mounts"] as? [[String: Any]] ?? []
        #expect(statuses.first?["mountpoint"] as? String == mountpoint)
        #expect(statuses.first?["pid"] as? Int == mount["pid"] as? Int)

        let unmounted = try SQBackupBinary.run(["unmount", mountpoint, "--json"])
        #expect(unmounted.status == 0, "\(unmounted.stderr)")
        let unmount = try jsonObject(unmounted.stdout)
        #expect(unmount["mountpoint"] as? String == mountpoint && unmount["unmounted"] as? Bool == true)
        #expect(unmount["lazyRoot"] as? Bool == false)
        #expect(!MountTable.isMounted(mountpoint))

        let expired = try fixture.seed(createdAt: Date().addingTimeInterval(-9 * 86400))
        let pruned = try fixture.run(["prune", "--json"])
        #expect(pruned.status == 0, "\(pruned.stderr)")
        let prune = try jsonObject(pruned.stdout)
        #expect(prune["dryRun"] as? Bool == false)
        #expect((prune["expired"] as? [[String: Any]])?.map { $0["id"] as? String } == [expired.id])
        #expect(prune["staleUploads"] is [String] && prune["orphans"] is [String])

        let deleted = try fixture.run(["delete", id, "--json"])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(try jsonObject(deleted.stdout)["deleted"] as? [String] == [id])
        #expect(try fixture.catalog.list().backups.isEmpty)
    }

    @Test(
        "with --json a failure is one JSON error line on stderr and nothing on stdout, usage errors included",
        arguments: [CatalogStoreKind.local, .s3])
    func errorsAsJSON(kind: CatalogStoreKind) throws {
        let fixture = try kind.make()
        defer { fixture.cleanup() }
        let missing = BackupID.generate()
        let shown = try fixture.run(["show", missing, "--json"])
        #expect(shown.status == 4)
        #expect(shown.stdout.isEmpty)
        let error = try #require(try jsonObject(shown.stderr)["error"] as? [String: Any])
        #expect(error["code"] as? String == "BACKUP_NOT_FOUND" && error["exitStatus"] as? Int == 4)
        #expect((error["message"] as? String ?? "").contains(missing))

        let usage = try fixture.run(["verify", "--parallel", "0", missing, "--json"])
        #expect(usage.status == 64)
        let usageError = try #require(try jsonObject(usage.stderr)["error"] as? [String: Any])
        #expect(usageError["code"] as? String == "USAGE" && usageError["exitStatus"] as? Int == 64)
        #expect((usageError["message"] as? String ?? "").contains("--parallel"))

        let text = try fixture.run(["show", missing])
        #expect(text.stderr.hasPrefix("sqbackup: BACKUP_NOT_FOUND: "), "\(text.stderr)")
    }
}

import BackupTestSupport
import Foundation
import SQBackup
import TestSupport
import Testing

@Suite("Exit statuses and restore progress, end to end", .serialized)
struct ExitStatusTests {
    @Test("not found 4, expired 5, usage 64, partial restore 3 (RESTORE_PARTIAL with --json)")
    func documentedStatuses() throws {
        let work = try TemporaryDirectory("cli-exit")
        defer { work.remove() }
        let fixture = try CatalogStoreKind.local.make()
        defer { fixture.cleanup() }
        let (_, image) = try smallImage(in: work)

        let unknown = BackupID.generate()
        #expect(try fixture.run(["show", unknown]).status == 4)
        #expect(try fixture.run(["restore", unknown, "--target", work.child("u")]).status == 4)
        #expect(try fixture.run(["delete", unknown]).status == 4)

        let expired = try fixture.seed(image: image, createdAt: Date().addingTimeInterval(-7200), ttl: 3600)
        let refused = try fixture.run(["restore", expired.id, "--target", work.child("e")])
        #expect(refused.status == 5 && refused.stderr.contains("BACKUP_EXPIRED"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.child("e")))

        #expect(try fixture.run(["restore"]).status == 64)
        #expect(try fixture.run(["create", work.path, "--ttl", "soon"]).status == 64)

        // a-bad.txt's blocks are the image's first data, right after the 96-byte superblock: damaged,
        // that file is left out and the rest restored.
        let source = work.child("partial")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        let lines = (0..<40_000).map { "line \($0)\n" }.joined()
        try Data(lines.utf8).write(to: URL(fileURLWithPath: source + "/a-bad.txt"))
        try Data("good\n".utf8).write(to: URL(fileURLWithPath: source + "/good.txt"))
        let damaged = work.child("damaged.sqsh")
        try SquashfsTools.mksquashfs(source, to: damaged, compressor: "gzip")
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: damaged))
        try handle.seek(toOffset: 96 + 16)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 256))
        try handle.close()
        let partial = try SQBackupBinary.run(["restore", damaged, "--target", work.child("p"), "--json"])
        #expect(partial.status == 3, "\(partial.stderr)")
        let error = try #require(try jsonObject(partial.stderr)["error"] as? [String: Any])
        #expect(error["code"] as? String == "RESTORE_PARTIAL" && error["exitStatus"] as? Int == 3)
    }

    @Test("mount and unmount: not found 4, expired 5; mount --quiet prints nothing; mount --all --json its document")
    func mountStatuses() throws {
        guard try requireFuse() else { return }
        let work = try TemporaryDirectory("cli-exit-mount")
        defer { work.remove() }
        let fixture = try CatalogStoreKind.local.make()
        defer { fixture.cleanup() }
        let (_, image) = try smallImage(in: work)
        let mountpoint = work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)

        let unknown = try fixture.run(["mount", BackupID.generate(), mountpoint, "--json"])
        #expect(unknown.status == 4, "\(unknown.stderr)")
        #expect((try jsonObject(unknown.stderr)["error"] as? [String: Any])?["code"] as? String == "BACKUP_NOT_FOUND")
        let expired = try fixture.seed(image: image, createdAt: Date().addingTimeInterval(-7200), ttl: 3600)
        let refused = try fixture.run(["mount", expired.id, mountpoint])
        #expect(refused.status == 5 && refused.stderr.contains("BACKUP_EXPIRED"), "\(refused.stderr)")
        #expect(!MountTable.isMounted(mountpoint))
        let notMounted = try SQBackupBinary.run(["unmount", mountpoint, "--json"])
        #expect(notMounted.status == 4, "\(notMounted.stderr)")
        #expect(try SQBackupBinary.run(["unmount", work.child("missing")]).status == 4)

        let live = try fixture.seed(image: image)
        let quiet = try fixture.run(["mount", live.id, mountpoint, "--quiet"])
        #expect(quiet.status == 0 && quiet.stdout.isEmpty && quiet.stderr.isEmpty, "\(quiet.stdout)\(quiet.stderr)")
        #expect(try SQBackupBinary.run(["unmount", mountpoint, "--quiet"]).stdout.isEmpty)

        let all = try fixture.run(["mount", "--all", mountpoint, "--json"])
        #expect(all.status == 0, "\(all.stderr)")
        defer { _ = try? SQBackupBinary.run(["unmount", mountpoint]) }
        let document = try jsonObject(all.stdout)
        #expect(document["mountpoint"] as? String == mountpoint && document["image"] as? String == "all")
        #expect((document["pid"] as? Int ?? 0) > 1)
        #expect(try SQBackupBinary.run(["unmount", mountpoint]).status == 0)
    }

    @Test("the README's exit-status table and --help are the binary's own table")
    func tableIsDocumented() throws {
        let table = try SQBackupBinary.run(["exit-codes"])
        #expect(table.status == 0)
        let readme = try String(contentsOfFile: Self.repositoryRoot + "/README.md", encoding: .utf8)
        #expect(
            readme.contains(table.stdout.trimmingCharacters(in: .newlines)),
            "README.md's exit-status table differs from `sqbackup exit-codes`; paste its output into README.md")

        let entries = try jsonArray(try SQBackupBinary.run(["exit-codes", "--json"]).stdout)
        let statuses = entries.compactMap { $0["exitStatus"] as? Int }
        #expect(statuses == [0, 1, 3, 4, 5, 6, 7, 64, 130])
        let help = try SQBackupBinary.run(["--help"]).stdout
        #expect(help.contains("EXIT STATUS"))
        for entry in entries {
            let code = try #require(entry["exitStatus"] as? Int)
            #expect(help.contains("  \(code) "), "--help lacks exit status \(code)")
        }
    }

    @Test("restore draws progress on a terminal, not when piped nor with --quiet")
    func restoreProgress() throws {
        try #require(Shell.has("script"), "util-linux's script is needed to give the restore a terminal")
        let work = try TemporaryDirectory("cli-progress")
        defer { work.remove() }
        let fixture = try CatalogStoreKind.local.make()
        defer { fixture.cleanup() }
        let source = try CreateFixture.standardTree(in: work)
        let id = try fixture.run(["create", source, "--quiet"]).stdout.trimmingCharacters(in: .newlines)

        func onTerminal(_ arguments: [String]) throws -> Shell.Output {
            let command = ([SQBackupBinary.path, arguments[0]] + fixture.storeArguments + arguments.dropFirst())
                .joined(separator: " ")
            return try Shell.run(["script", "-qec", command, "/dev/null"], environment: fixture.environment)
        }
        let shown = try onTerminal(["restore", id, "--target", work.child("tty")])
        #expect(shown.status == 0, "\(shown.stdout)")
        // The last line drawn is the finished one: every file copied.
        let finished = try #require(shown.stdout.matches(of: #/files (\d+)\/(\d+)  written /#).last, "\(shown.stdout)")
        #expect(finished.1 == finished.2 && Int(finished.1) ?? 0 > 300, "\(shown.stdout)")
        #expect(shown.stdout.contains("\u{1B}[K"))

        let quiet = try onTerminal(["restore", id, "--target", work.child("quiet"), "--quiet"])
        #expect(quiet.status == 0 && !quiet.stdout.contains("files "), "\(quiet.stdout)")
        let piped = try fixture.run(["restore", id, "--target", work.child("piped")])
        #expect(piped.status == 0 && !piped.stderr.contains("files ") && !piped.stderr.contains("\u{1B}"))
    }

    /// The checkout this test was built from (the build directory lives inside it).
    static var repositoryRoot: String {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path),
            directory.path != "/"
        {
            directory = directory.deletingLastPathComponent()
        }
        return directory.path
    }
}

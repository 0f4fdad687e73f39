import BackupTestSupport
import Foundation
import SQBackup
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("sqbackup restore, end to end", .serialized)
struct RestoreCommandTests {
    private struct Printed: Decodable {
        var dir: String
        var filesRestored: Int
        var filesUnchanged: Int
        var filesRemoved: Int
        var bytesWritten: UInt64
        var bytesFetched: Int
        var rejected: [String]
    }

    @Test(
        "create, restore --target --json (local store, S3 over HTTPS; setuid kept as root); non-empty refused, --force overlays, --no-setuid strips",
        arguments: [CatalogStoreKind.local, .s3OverTLS])
    func createThenRestore(kind: CatalogStoreKind) throws {
        let work = try TemporaryDirectory("cli-restore")
        defer { work.remove() }
        let fixture = try kind.make()
        defer { fixture.cleanup() }
        let source = try CreateFixture.standardTree(in: work)
        let created = try fixture.run(["create", source, "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        let backup = try BackupJSON.decoder().decode(DirectoryBackup.self, from: Data(created.stdout.utf8))

        let target = work.child("restored")
        let restored = try fixture.run(["restore", backup.id, "--target", target, "--json"])
        #expect(restored.status == 0, "\(restored.stderr)")
        let printed = try JSONDecoder().decode(Printed.self, from: Data(restored.stdout.utf8))
        #expect(printed.dir == target && printed.filesRestored > 300 && printed.rejected == [])
        #expect(TreeComparison().differences(expected: source, actual: target) == [])
        #expect(try Self.mode(target + "/modes/setuid") == (getuid() == 0 ? 0o4755 : 0o755))

        let busy = try fixture.run(["restore", backup.id, "--target", target])
        #expect(busy.status == 1)
        #expect(busy.stderr.contains("BACKUP_RESTORE_FAILED") && busy.stderr.contains("target directory exists"))

        try Data("extra\n".utf8).write(to: URL(fileURLWithPath: target + "/extra.txt"))
        let forced = try fixture.run(["restore", backup.id, "--target", target, "--force", "--no-setuid"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(forced.stdout.contains("1 removed"), "\(forced.stdout)")
        #expect(forced.stderr.contains("warning: modes/setuid: setuid/setgid bits not restored"), "\(forced.stderr)")
        #expect(try Self.mode(target + "/modes/setuid") == 0o755)

        let unknown = try fixture.run(["restore", "00000000-0000-4000-8000-000000000000", "--target", work.child("u")])
        #expect(unknown.status == 4 && unknown.stderr.contains("BACKUP_NOT_FOUND"))
    }

    @Test("a damaged block: that file is listed, the rest restored, exit 3; --json has partial and notRestored")
    func partialRestore() throws {
        let work = try TemporaryDirectory("cli-restore-partial")
        defer { work.remove() }
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        // a-bad.txt's blocks are the image's first data, right after the 96-byte superblock.
        let lines = (0..<40_000).map { "line \($0)\n" }.joined()
        try Data(lines.utf8).write(to: URL(fileURLWithPath: source + "/a-bad.txt"))
        try Data("good\n".utf8).write(to: URL(fileURLWithPath: source + "/good.txt"))
        let image = work.child("damaged.sqsh")
        try SquashfsTools.mksquashfs(source, to: image, compressor: "gzip")
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: image))
        try handle.seek(toOffset: 96 + 16)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 256))
        try handle.close()

        let text = try SQBackupBinary.run(["restore", image, "--target", work.child("t")])
        #expect(text.status == 3, "\(text.stderr)")
        #expect(text.stderr.contains("sqbackup: not restored: a-bad.txt: its data could not be read"), "\(text.stderr)")
        #expect(text.stderr.contains("partial restore: 1 entries of the snapshot were not restored"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.child("t")) == ["good.txt"])

        let json = try SQBackupBinary.run(["restore", image, "--target", work.child("j"), "--json"])
        #expect(json.status == 3, "\(json.stderr)")
        struct Printed: Decodable {
            struct Entry: Decodable {
                var path: String
                var reason: String
            }
            var partial: Bool
            var notRestored: [Entry]
        }
        let printed = try JSONDecoder().decode(Printed.self, from: Data(json.stdout.utf8))
        #expect(printed.partial && printed.notRestored.map(\.path) == ["a-bad.txt"])
        #expect(printed.notRestored.first?.reason == "unreadable")
    }

    static func mode(_ path: String) throws -> Int {
        var info = stat()
        try #require(lstat(path, &info) == 0, "\(path) is missing")
        return Int(info.st_mode & 0o7777)
    }

    static func entries(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }
}

import BackupTestSupport
import Foundation
import SQBackup
import TestSupport
import Testing

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
        "create, then restore --target --json (local store, S3 over HTTPS); a busy target is refused, --force overlays it",
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
        let restored = try fixture.run(["restore", backup.id, "--target", target, "--json", "--preserve-setuid"])
        #expect(restored.status == 0, "\(restored.stderr)")
        let printed = try JSONDecoder().decode(Printed.self, from: Data(restored.stdout.utf8))
        #expect(printed.dir == target && printed.filesRestored > 300 && printed.rejected == [])
        #expect(TreeComparison().differences(expected: source, actual: target) == [])

        let busy = try fixture.run(["restore", backup.id, "--target", target])
        #expect(busy.status == 1)
        #expect(busy.stderr.contains("BACKUP_RESTORE_FAILED") && busy.stderr.contains("target directory exists"))

        try Data("extra\n".utf8).write(to: URL(fileURLWithPath: target + "/extra.txt"))
        let forced = try fixture.run(["restore", backup.id, "--target", target, "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(forced.stdout.contains("1 removed"), "\(forced.stdout)")
        #expect(forced.stderr.contains("setuid/setgid bits not restored"), "default strips setuid and says so")

        let unknown = try fixture.run(["restore", "00000000-0000-4000-8000-000000000000", "--target", work.child("u")])
        #expect(unknown.status == 1 && unknown.stderr.contains("BACKUP_NOT_FOUND"))
    }
}

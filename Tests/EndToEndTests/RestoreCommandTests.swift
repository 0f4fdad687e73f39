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

    @Test("create, then restore --target --json from the local store; a busy target is refused, --force overlays it")
    func createThenRestore() throws {
        let work = try TemporaryDirectory("cli-restore")
        defer { work.remove() }
        let source = try CreateFixture.standardTree(in: work)
        let store = ["--store", "file://\(work.child("store"))"]
        let created = try SQBackupBinary.run(["create", source, "--json"] + store)
        #expect(created.status == 0, "\(created.stderr)")
        let backup = try BackupJSON.decoder().decode(DirectoryBackup.self, from: Data(created.stdout.utf8))

        let target = work.child("restored")
        let restored = try SQBackupBinary.run(
            ["restore", backup.id, "--target", target, "--json", "--preserve-setuid"] + store)
        #expect(restored.status == 0, "\(restored.stderr)")
        let printed = try JSONDecoder().decode(Printed.self, from: Data(restored.stdout.utf8))
        #expect(printed.dir == target && printed.filesRestored > 300 && printed.rejected == [])
        #expect(TreeComparison().differences(expected: source, actual: target) == [])

        let busy = try SQBackupBinary.run(["restore", backup.id, "--target", target] + store)
        #expect(busy.status == 1)
        #expect(busy.stderr.contains("BACKUP_RESTORE_FAILED") && busy.stderr.contains("target directory exists"))

        try Data("extra\n".utf8).write(to: URL(fileURLWithPath: target + "/extra.txt"))
        let forced = try SQBackupBinary.run(["restore", backup.id, "--target", target, "--force"] + store)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(forced.stdout.contains("1 removed"), "\(forced.stdout)")
        #expect(forced.stderr.contains("setuid/setgid bits not restored"), "default strips setuid and says so")

        let unknown = try SQBackupBinary.run(
            ["restore", "00000000-0000-4000-8000-000000000000", "--target", work.child("u")] + store)
        #expect(unknown.status == 1 && unknown.stderr.contains("BACKUP_NOT_FOUND"))
    }
}

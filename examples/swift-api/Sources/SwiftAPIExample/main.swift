// Creates, lists, restores and deletes a backup with the SQBackup library, on the store the
// environment selects: the embedded local store (SQBACKUP_STORE_DIR) unless R2/S3 is configured.
// Run: SQBACKUP_STORE_DIR=/tmp/store swift run
import Foundation
import SQBackup

let work = FileManager.default.temporaryDirectory.appendingPathComponent("swift-api-example-\(UUID().uuidString)")
let project = work.appendingPathComponent("workspace")
defer { try? FileManager.default.removeItem(at: work) }

func check(_ condition: Bool, _ message: String) {
    guard !condition else { return }
    FileHandle.standardError.write(Data("FAILED: \(message)\n".utf8))
    try? FileManager.default.removeItem(at: work)
    exit(1)
}

do {
    try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
    try Data("print(\"hello\")\n".utf8).write(to: project.appendingPathComponent("main.py"))

    let client = BackupClient()
    let backup = try await client.createBackup(
        .init(dir: project.path, description: "Project checkpoint", metadata: ["example": "swift-api"]))
    print("Backup created: \(backup.id), \(backup.sizeBytes) bytes, expires \(backup.expiresAt)")

    let listed = try await client.listBackups(metadata: ["example": "swift-api"])
    check(listed.contains { $0.id == backup.id }, "the new backup is not listed")
    print("Listed: \(listed.count) backup(s) with example=swift-api")

    let target = work.appendingPathComponent("restored").path
    let result = try await client.restoreBackup(backup.id, options: .init(targetDir: target))
    let restored = try String(contentsOfFile: target + "/main.py", encoding: .utf8)
    check(restored == "print(\"hello\")\n", "the restored file differs")
    print("Restored to: \(result.dir), files restored: \(result.filesRestored)")

    try await client.deleteBackup(backup.id)
    do {
        _ = try await client.backup(id: backup.id)
        check(false, "the deleted backup is still there")
    } catch let error as BackupError where error.code == .notFound {
        print("Deleted: \(backup.id)")
    }
    print("swift-api example finished")
} catch {
    check(false, "\(error)")
}

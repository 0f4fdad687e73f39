import BackupTestSupport
import Foundation
import SQBackup
import Storage
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("restoreBackup", .serialized)
struct RestoreBackupTests {
    /// A backup of the standard tree in a local store, and the catalog over that store.
    private func backup(in work: TemporaryDirectory) throws -> (catalog: BackupCatalog, id: String, source: String) {
        let source = try CreateFixture.standardTree(in: work)
        let catalog = BackupCatalog(store: try LocalDirectoryStore(root: work.child("store")))
        let backup = try catalog.createBackup(dir: source)
        return (catalog, backup.id, source)
    }

    private func exact(_ target: String? = nil, force: Bool = false) -> RestoreBackupOptions {
        var options = RestoreBackupOptions(targetDir: target, force: force)
        options.restore.preserveSetuid = true
        return options
    }

    @Test("a backup restores into a new directory equal to the source")
    func toNewTarget() throws {
        let work = try TemporaryDirectory("facade-restore")
        defer { work.remove() }
        let (catalog, id, source) = try backup(in: work)
        let target = work.child("copy")
        let result = try catalog.restoreBackup(id: id, options: exact(target))
        #expect(result.dir == target)
        #expect(result.filesRestored > 300)
        #expect(TreeComparison().differences(expected: source, actual: target) == [])
    }

    @Test("without a target the original directory is rolled back; extras go")
    func rollback() throws {
        let work = try TemporaryDirectory("facade-rollback")
        defer { work.remove() }
        let (catalog, id, source) = try backup(in: work)
        let pristine = work.child("pristine")
        _ = try catalog.restoreBackup(id: id, options: exact(pristine))
        try Data("broken\n".utf8).write(to: URL(fileURLWithPath: source + "/hello.txt"))
        try Data("junk\n".utf8).write(to: URL(fileURLWithPath: source + "/junk.txt"))
        try FileManager.default.removeItem(atPath: source + "/names")

        let result = try catalog.restoreBackup(id: id, options: exact())
        #expect(result.dir == source)
        #expect(result.filesRemoved == 1)
        #expect(result.filesRestored == 8, "hello.txt, names/ and its six files")
        #expect(TreeComparison().differences(expected: pristine, actual: source) == [])
    }

    @Test("a non-empty target fails with 'target directory exists' unless forced")
    func targetExists() throws {
        let work = try TemporaryDirectory("facade-exists")
        defer { work.remove() }
        let (catalog, id, source) = try backup(in: work)
        let target = work.child("busy")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        try Data("keep?\n".utf8).write(to: URL(fileURLWithPath: target + "/mine.txt"))
        let error = #expect(throws: BackupError.self) { try catalog.restoreBackup(id: id, options: exact(target)) }
        #expect(error?.code == .restoreFailed)
        #expect(error?.message.contains("target directory exists") == true)
        #expect(error?.reason == .targetNotEmpty(path: target, covering: false))
        #expect(error?.message.contains("--force") == false, "the facade names no command-line flag")
        #expect(FileManager.default.fileExists(atPath: target + "/mine.txt"))

        _ = try catalog.restoreBackup(id: id, options: exact(target, force: true))
        var comparison = TreeComparison()
        comparison.compareRoot = false
        #expect(comparison.differences(expected: source, actual: target) == [])
    }

    @Test("unknown and expired backups: BACKUP_NOT_FOUND and BACKUP_EXPIRED; image files need a target")
    func refusals() throws {
        let work = try TemporaryDirectory("facade-refusals")
        defer { work.remove() }
        let (catalog, id, _) = try backup(in: work)
        let missing = #expect(throws: BackupError.self) {
            try catalog.restoreBackup(id: "00000000-0000-4000-8000-000000000000", options: exact(work.child("x")))
        }
        #expect(missing?.code == .notFound && missing?.message.contains("not found") == true)

        var later = catalog
        later.now = { Date().addingTimeInterval(8 * 24 * 3600) }
        let expired = #expect(throws: BackupError.self) {
            try later.restoreBackup(id: id, options: exact(work.child("y")))
        }
        #expect(expired?.code == .expired)
        #expect(!FileManager.default.fileExists(atPath: work.child("y")))

        let image = work.child("image.sqsh")
        try CreateFixture.download(catalog.store, key: "backups/\(id)/data.sqsh", to: image)
        let noTarget = #expect(throws: BackupError.self) {
            try BackupRestore.restore(.file(path: image), store: StoreSelection(), options: exact())
        }
        #expect(noTarget?.code == .invalidConfig)
        let fromFile = try BackupRestore.restore(
            .file(path: image), store: StoreSelection(), options: exact(work.child("from-file")))
        #expect(fromFile.filesRestored > 300)
    }
}

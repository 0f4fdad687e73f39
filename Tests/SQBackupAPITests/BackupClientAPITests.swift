import Foundation
import SQBackup
import Synchronization
import Testing

/// The facade as an adopter uses it: this file imports SQBackup alone, so every type named here
/// (options, results, progress, errors) must be reachable from it.
@Suite("BackupClient through `import SQBackup` alone, on the local store")
struct BackupClientAPITests {
    static let project = ["src/app.py": "def answer():\n    return 42\n", "README.md": "# project\n"]

    @Test("create, list by metadata, show, restore into a new directory, verify, delete")
    func roundTrip() async throws {
        let scratch = try Scratch("round-trip")
        defer { scratch.remove() }
        try scratch.write(Self.project, under: "workspace")
        try scratch.write(["junk.o": "object\n"], under: "workspace/build")
        let client = BackupClient(environment: scratch.environment)
        let reports = Mutex<[CreateProgress]>([])
        var options = BackupClient.CreateOptions(
            dir: scratch.path("workspace"), name: "checkpoint", description: "before the refactor",
            metadata: ["session_id": "s1"], ttl: .seconds(3600), excludes: ["build"])
        options.progress = { progress in reports.withLock { $0.append(progress) } }
        let backup: DirectoryBackup = try await client.createBackup(options)

        #expect(backup.dir == scratch.path("workspace"))
        #expect(backup.sandboxId == "api-tests")
        #expect(backup.description == "before the refactor")
        #expect(backup.metadata == ["session_id": "s1"])
        #expect(backup.sizeBytes > 0)
        #expect(abs(backup.expiresAt.timeIntervalSince(backup.createdAt) - 3600) < 1)
        let progress = reports.withLock { $0 }
        #expect(progress.last?.finishing == true)
        #expect(progress.last?.filesDone == 2)

        let listed = try await client.listBackups(metadata: ["session_id": "s1"])
        #expect(listed.map(\.id) == [backup.id])
        #expect(try await client.listBackups(metadata: ["session_id": "other"]).isEmpty)
        #expect(try await client.listBackups(sandboxId: "api-tests").map(\.id) == [backup.id])
        // As stored (meta.json keeps dates to the millisecond).
        #expect(try await client.backup(id: backup.id) == listed.first)
        #expect(abs(listed[0].createdAt.timeIntervalSince(backup.createdAt)) < 0.01)
        #expect(try client.catalog().show(backup.id).name == "checkpoint")

        let result: RestoreResult = try await client.restoreBackup(
            backup.id, options: .init(targetDir: scratch.path("restored")))
        #expect(result.dir == scratch.path("restored"))
        #expect(result.filesRestored >= 2)
        #expect(!result.isPartial)
        #expect(result.notRestored.isEmpty)
        #expect(result.verified)
        #expect(try scratch.read("restored") == Self.project)

        let report: VerifyReport = try await client.verify(backup.id)
        #expect(report.ok)
        #expect(report.damageError == nil)

        try await client.deleteBackup(backup.id)
        await expectCode(.notFound) { _ = try await client.backup(id: backup.id) }
        #expect(try await client.listBackups().isEmpty)
    }

    @Test("restore without a target rolls the original directory back, extras removed")
    func rollback() async throws {
        let scratch = try Scratch("rollback")
        defer { scratch.remove() }
        try scratch.write(Self.project, under: "workspace")
        let client = BackupClient(environment: scratch.environment)
        let checkpoint = try await client.createBackup(.init(dir: scratch.path("workspace")))
        try scratch.write(["src/app.py": "def answer(:\n", "scratch.txt": "leftover\n"], under: "workspace")

        let result = try await client.restoreBackup(checkpoint.id)
        #expect(result.dir == scratch.path("workspace"))
        #expect(result.filesRemoved == 1)
        #expect(try scratch.read("workspace") == Self.project)
    }

    @Test("the spec's error phrases, with stable codes")
    func errors() async throws {
        let scratch = try Scratch("errors")
        defer { scratch.remove() }
        let client = BackupClient(environment: scratch.environment)
        let missing = await expectCode(.createFailed) {
            _ = try await client.createBackup(.init(dir: scratch.path("nowhere")))
        }
        #expect(missing?.message.contains("directory not found") == true)

        let unknown = await expectCode(.notFound) {
            _ = try await client.restoreBackup(UUID().uuidString.lowercased())
        }
        #expect(unknown?.message.contains("not found") == true)

        try scratch.write(Self.project, under: "workspace")
        try scratch.write(["keep.txt": "mine\n"], under: "occupied")
        let backup = try await client.createBackup(.init(dir: scratch.path("workspace")))
        let occupied = await expectCode(.restoreFailed) {
            _ = try await client.restoreBackup(backup.id, options: .init(targetDir: scratch.path("occupied")))
        }
        #expect(occupied?.message.contains("target directory exists") == true)
        #expect(occupied?.reason == .targetNotEmpty(path: scratch.path("occupied"), covering: false))
        #expect(try scratch.read("occupied") == ["keep.txt": "mine\n"])
        let forced = try await client.restoreBackup(
            backup.id, options: .init(targetDir: scratch.path("occupied"), force: true, keepExtra: true))
        #expect(forced.dir == scratch.path("occupied"))
        #expect(try scratch.read("occupied")["keep.txt"] == "mine\n")

        let misconfigured = BackupClient(
            store: StoreSelection(store: "ftp://nowhere"), environment: scratch.environment)
        await expectCode(.invalidConfig) { _ = try await misconfigured.listBackups() }
        await expectCode(.invalidConfig) {
            _ = try await client.createBackup(.init(dir: scratch.path("workspace"), ttl: .zero))
        }
    }

    @Test("a task cancelled before the call starts does nothing and throws OPERATION_INTERRUPTED")
    func cancelledBeforeStart() async throws {
        let scratch = try Scratch("cancelled-early")
        defer { scratch.remove() }
        try scratch.write(Self.project, under: "workspace")
        let client = BackupClient(environment: scratch.environment)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await client.createBackup(.init(dir: scratch.path("workspace")))
        }
        let error = await #expect(throws: BackupError.self) { _ = try await task.value }
        #expect(error?.code == .interrupted)
        #expect(try await client.listBackups().isEmpty)
    }
}

/// Expects `body` to throw a `BackupError` with `code`; returns it.
@discardableResult
func expectCode(_ code: BackupError.Code, _ body: () async throws -> Void) async -> BackupError? {
    do {
        try await body()
    } catch let error as BackupError {
        #expect(error.code == code, "\(error)")
        return error
    } catch {
        Issue.record("expected a BackupError \(code.rawValue), got \(error)")
        return nil
    }
    Issue.record("expected \(code.rawValue), but nothing was thrown")
    return nil
}

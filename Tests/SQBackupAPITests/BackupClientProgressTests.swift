import Dispatch
import Foundation
import SQBackup
import Testing

/// Progress as an `AsyncStream`, images outside the catalog, and how a cancellation is worded:
/// through `import SQBackup` alone.
@Suite("BackupClient: progress streams, image files, cancellation reasons")
struct BackupClientProgressTests {
    @Test("create, restore and verify report progress through their streams, which end with the call")
    func progressStreams() async throws {
        let scratch = try Scratch("streams")
        defer { scratch.remove() }
        try scratch.write(BackupClientAPITests.project, under: "workspace")
        let client = BackupClient(environment: scratch.environment)

        let create = client.createBackupWithProgress(.init(dir: scratch.path("workspace")))
        var created: [CreateProgress] = []
        for await progress in create.progress { created.append(progress) }
        let backup = try await create.value
        #expect(created.last?.finishing == true)
        #expect(created.last?.filesDone == 2)
        #expect(try await client.listBackups().map(\.id) == [backup.id])

        let restore = client.restoreBackupWithProgress(backup.id, options: .init(targetDir: scratch.path("restored")))
        var restored: [RestoreProgress] = []
        for await progress in restore.progress { restored.append(progress) }
        let result = try await restore.value
        #expect(result.filesRestored >= 2)
        #expect(restored.last?.finished == true)
        #expect(restored.last?.filesDone == restored.last?.filesTotal)
        #expect(try scratch.read("restored") == BackupClientAPITests.project)

        let verify = client.verifyWithProgress(backup.id, parallelReads: 2)
        var checked: [UInt64] = []
        for await progress in verify.progress { checked.append(progress.bytesChecked) }
        let report = try await verify.value
        #expect(report.ok)
        #expect(checked.last == backup.sizeBytes)
        #expect(checked == checked.sorted())
    }

    @Test("an image built into a file restores from that file; without a target it has nowhere to go")
    func imageFile() async throws {
        let scratch = try Scratch("image-file")
        defer { scratch.remove() }
        try scratch.write(BackupClientAPITests.project, under: "workspace")
        let client = BackupClient(environment: scratch.environment)
        let report = try await client.buildImage(.init(dir: scratch.path("workspace")), output: scratch.path("ws.sqsh"))
        #expect(report.backup == nil)
        #expect(report.imagePath == scratch.path("ws.sqsh"))
        #expect(report.files == 2)
        #expect(try await client.listBackups().isEmpty)

        let image = ImageReference.file(path: scratch.path("ws.sqsh"))
        let result = try await client.restore(image, options: .init(targetDir: scratch.path("out")))
        #expect(result.dir == scratch.path("out"))
        #expect(try scratch.read("out") == BackupClientAPITests.project)
        let error = await expectCode(.invalidConfig) { _ = try await client.restore(image) }
        #expect(error?.message.contains("give a target directory") == true)
    }

    @Test("a cancelled create says why, in the words of withCancellationReason, and stores nothing")
    func cancellationReason() async throws {
        let scratch = try Scratch("reason")
        defer { scratch.remove() }
        try scratch.write(BackupClientAPITests.project, under: "workspace")
        let client = BackupClient(environment: scratch.environment)
        let held = DispatchSemaphore(value: 0)
        var options = BackupClient.CreateOptions(dir: scratch.path("workspace"))
        // The first report holds the build until the test has cancelled it.
        let first = Flag()
        options.progress = { _ in if first.setOnce() { _ = held.wait(timeout: .now() + 30) } }
        let create = await BackupClient.withCancellationReason(
            { "stopped by the test" }, operation: { client.createBackupWithProgress(options) })
        for await _ in create.progress {
            create.cancel()
            held.signal()
        }
        let error = await expectCode(.interrupted) { _ = try await create.value }
        #expect(error?.message.hasPrefix("stopped by the test") == true, "\(String(describing: error))")
        #expect(try await client.listBackups().isEmpty)
    }

    @Test("relative CA bundle paths, given or from the environment, are taken from the current directory")
    func caBundlePaths() {
        let cwd = FileManager.default.currentDirectoryPath
        let client = BackupClient(
            store: StoreSelection(caBundle: "certs/ca.pem"),
            environment: ["AWS_CA_BUNDLE": "aws.pem", "SSL_CERT_FILE": "/etc/ssl/cert.pem", "OTHER": "x.pem"])
        #expect(client.environment["AWS_CA_BUNDLE"] == cwd + "/aws.pem")
        #expect(client.environment["SSL_CERT_FILE"] == "/etc/ssl/cert.pem")
        #expect(client.environment["OTHER"] == "x.pem")
        #expect(StoreSelection(caBundle: "certs/ca.pem").absolute(from: "/srv").caBundle == "/srv/certs/ca.pem")
        #expect(StoreSelection(caBundle: "/ca.pem").absolute(from: "/srv").caBundle == "/ca.pem")
        #expect(StoreSelection().absolute(from: "/srv").caBundle == nil)
    }
}

/// Set once, from any thread.
private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var set = false

    /// True for the first caller only.
    func setOnce() -> Bool {
        lock.withLock {
            defer { set = true }
            return !set
        }
    }
}

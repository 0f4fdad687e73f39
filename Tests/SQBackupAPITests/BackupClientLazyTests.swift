import Foundation
import SQBackup
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `restoreLazily` with the image mount served by the test process itself.
@Suite("BackupClient: lazy roots served in this process")
struct BackupClientLazyTests {
    @Test("a lazy root shows the snapshot at once, takes writes in its upper layer, and is removed with them")
    func lazyRoot() async throws {
        guard getuid() == 0, FileManager.default.fileExists(atPath: "/dev/fuse") else {
            Issue.record("not root or no /dev/fuse: lazy roots (FUSE + overlayfs) are not tested here; CI runs as root")
            return
        }
        let scratch = try Scratch("lazy")
        defer { scratch.remove() }
        try scratch.write(BackupClientAPITests.project, under: "workspace")
        let client = BackupClient(environment: scratch.environment)
        let backup = try await client.createBackup(.init(dir: scratch.path("workspace")))
        var options = BackupClient.LazyOptions(targetDir: scratch.path("lazy"))
        options.mount.diskCache = false
        let root = try await client.restoreLazily(.backup(id: backup.id), options: options)

        #expect(root.dir == scratch.path("lazy"))
        #expect(root.servedInProcess)
        #expect(root.unverifiedReason == nil)
        #expect(root.upperDir.hasPrefix(scratch.path("state")))
        // Read and written before any check, so that the root is removed whatever fails.
        let probe = Result {
            let seen = try scratch.read("lazy")
            try Data("new\n".utf8).write(to: URL(fileURLWithPath: scratch.path("lazy/notes.txt")))
            return (seen, FileManager.default.fileExists(atPath: root.upperDir + "/notes.txt"))
        }
        try await root.remove()
        let (seen, upper) = try probe.get()

        #expect(seen == BackupClientAPITests.project)
        #expect(upper)
        #expect(!FileManager.default.fileExists(atPath: scratch.path("lazy")))
        #expect(!FileManager.default.fileExists(atPath: root.stateDir))
        #expect(try scratch.read("workspace") == BackupClientAPITests.project)

        let occupied = await expectCode(.restoreFailed) {
            _ = try await client.restoreLazily(
                .backup(id: backup.id), options: .init(targetDir: scratch.path("workspace")))
        }
        #expect(occupied?.reason == .targetNotEmpty(path: scratch.path("workspace"), covering: true))
        await expectCode(.notFound) { _ = try await client.restoreLazily(.backup(id: UUID().uuidString.lowercased())) }
    }
}

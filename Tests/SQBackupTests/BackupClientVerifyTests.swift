import BackupTestSupport
import Foundation
import SQBackup
import Storage
import Synchronization
import TestSupport
import Testing

/// The facade's verify under cancellation, on a store whose reads are slowed down.
@Suite("BackupClient.verify: cancellation stops the reads between ranges")
struct BackupClientVerifyTests {
    @Test("cancelling the task of a verify: OPERATION_INTERRUPTED before the image was read through")
    func cancelVerify() async throws {
        let work = try TemporaryDirectory("client-cancel-verify")
        defer { work.remove() }
        let script = RequestScript()
        let catalog = BackupCatalog(store: InMemoryObjectStore(script: script))
        let client = BackupClient(catalog: catalog, environment: ["SQBACKUP_STATE_DIR": work.child("state")])
        // 24 MiB: three 8 MiB ranges, each read slowly, so the verify cannot finish first.
        let source = try CreateFixture.incompressibleTree(in: work, megabytes: 24)
        let backup = try await client.createBackup(.init(dir: source))
        script.schedule(.delay(.milliseconds(500))) { $0.key.hasSuffix("/data.sqsh") }

        let start = script.requests.count
        // Cancelled by the store the moment the first read of the image arrives (and is held back):
        // a test thread polling the log can wake too late on a loaded machine.
        let running = Mutex<Task<VerifyReport, any Error>?>(nil)
        script.schedule(.delay(.zero)) { request in
            if request.key.hasSuffix("/data.sqsh") { running.withLock { $0?.cancel() } }
            return false
        }
        // Set under the lock, so the store cannot look for the task before it is there.
        let task = running.withLock { running in
            let task = Task { try await client.verify(backup.id, parallelReads: 1) }
            running = task
            return task
        }
        let error = await #expect(throws: BackupError.self) { _ = try await task.value }
        #expect(error?.code == .interrupted, "\(String(describing: error))")
        #expect(error?.message.contains("the verify stopped") == true, "\(String(describing: error))")
        let reads = script.requests.dropFirst(start).filter { $0.key.hasSuffix("/data.sqsh") }.count
        #expect(reads < 4, "\(reads) reads of the image after the cancellation")

        // Not cancelled, the same verify reads everything and passes.
        let report = try await client.verify(backup.id, parallelReads: 4)
        #expect(report.ok && report.bytesChecked == backup.sizeBytes)
    }
}

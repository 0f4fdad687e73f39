import Crypto
import Foundation
import Synchronization

/// Uploads multipart parts on threads of its own, at most `width` at a time; the first failure wins
/// and stops further submissions.
///
/// Each part is hashed (SHA-256) on its upload thread; the store sends that hash signed, so the server
/// checks the part on receipt, and the hashes make the object's composite digest.
final class PartUploader: Sendable {
    private struct State {
        var completed: [CompletedPart] = []
        var digests: [Int: [UInt8]] = [:]
        var failure: (any Error)?
        var bytesUploaded: UInt64 = 0
    }

    private let store: any ObjectStore
    private let key: String
    private let uploadId: String
    private let slots: DispatchSemaphore
    private let group = DispatchGroup()
    private let state = Mutex(State())
    private let cancellation: CancellationFlag

    init(store: any ObjectStore, key: String, uploadId: String, width: Int, cancellation: CancellationFlag) {
        self.store = store
        self.key = key
        self.uploadId = uploadId
        self.slots = DispatchSemaphore(value: max(1, width))
        self.cancellation = cancellation
    }

    var bytesUploaded: UInt64 { state.withLock { $0.bytesUploaded } }

    /// Starts uploading `bytes` as part `number`, first waiting for a free slot; throws the first
    /// failure of any part, or when cancelled.
    func submit(_ number: Int, _ bytes: [UInt8]) throws {
        while slots.wait(timeout: .now() + 0.1) == .timedOut {
            try checkHealth()
        }
        do {
            try checkHealth()
        } catch {
            slots.signal()
            throw error
        }
        group.enter()
        let thread = Thread { [self] in
            defer {
                slots.signal()
                group.leave()
            }
            // A part that fails after the upload was cancelled is not the reason anything failed.
            guard !cancellation.isCancelled else { return }
            do {
                let digest = Array(SHA256.hash(data: bytes))
                let etag = try store.uploadPart(
                    key, uploadId: uploadId, partNumber: number, bytes: bytes, sha256: digest)
                state.withLock { state in
                    state.completed.append(CompletedPart(partNumber: number, etag: etag))
                    state.digests[number] = digest
                    state.bytesUploaded += UInt64(bytes.count)
                }
            } catch {
                state.withLock { state in state.failure = state.failure ?? error }
            }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Waits for every submitted part; returns them and their SHA-256s in part order, or throws the
    /// first failure.
    func finish() throws -> (parts: [CompletedPart], digests: [[UInt8]]) {
        group.wait()
        try checkHealth()
        return state.withLock { state in
            let parts = state.completed.sorted { $0.partNumber < $1.partNumber }
            return (parts, parts.compactMap { state.digests[$0.partNumber] })
        }
    }

    /// Waits for the parts in flight, whatever happens to them (before aborting the upload).
    func drain() { group.wait() }

    private func checkHealth() throws {
        if let failure = state.withLock({ $0.failure }) { throw failure }
        try cancellation.check()
    }
}

import Dispatch
import SQBackup

#if canImport(Glibc)
    import Glibc
#endif

/// Turns SIGINT and SIGTERM into a cancellation request while a create, a restore or a verify
/// runs, so that a create can remove what it uploaded and a restore can stop between files and
/// remove its temporaries, instead of dying mid-way (the command then exits 130 with
/// OPERATION_INTERRUPTED). Facade calls are cancelled as tasks (`run`); the hydration of a lazy
/// root polls the flag.
final class SignalCancellation {
    private let sources: [any DispatchSourceSignal]

    /// Sets `cancellation` ("interrupted by SIGINT") on either signal, then calls `then`.
    init(_ cancellation: BackupCancellation, then: @escaping @Sendable () -> Void = {}) {
        sources = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")].map { number, name in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                cancellation.cancel("interrupted by \(name)")
                then()
            }
            source.resume()
            return source
        }
    }

    /// Runs the facade call `body` in a task of its own that SIGINT and SIGTERM cancel, so the
    /// call ends with OPERATION_INTERRUPTED "interrupted by SIGINT" (or SIGTERM) as the facade's
    /// cancellation stops it: nothing half-written, the target untouched.
    static func run<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) async throws -> Value {
        // The flag only carries the signal's name to the facade; the task's cancellation stops the work.
        let signalled = BackupCancellation()
        let task = Task {
            try await BackupClient.withCancellationReason({ signalled.cancelReason }) { try await body() }
        }
        let signals = SignalCancellation(signalled) { task.cancel() }
        defer { signals.restore() }
        return try await task.value
    }

    func restore() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

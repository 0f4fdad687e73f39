import Dispatch
import SQBackup

#if canImport(Glibc)
    import Glibc
#endif

/// Turns SIGINT and SIGTERM into a cancellation request while a create or a restore runs, so that
/// a create can remove what it uploaded and a restore can stop between files and remove its
/// temporaries, instead of dying mid-way (the command then exits 130 with OPERATION_INTERRUPTED).
final class SignalCancellation {
    private let sources: [any DispatchSourceSignal]

    init(_ cancellation: BackupCancellation) {
        sources = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")].map { number, name in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { cancellation.cancel("interrupted by \(name)") }
            source.resume()
            return source
        }
    }

    func restore() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

import Dispatch
import SQBackup

#if canImport(Glibc)
    import Glibc
#endif

/// Turns SIGINT and SIGTERM into a cancellation request while a create runs, so that it can remove
/// what it uploaded before exiting, instead of dying with an upload in progress.
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

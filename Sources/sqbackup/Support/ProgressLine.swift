import Foundation
import SQBackup
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A one-line progress display on stderr, redrawn at most a few times a second; only on a terminal.
final class ProgressLine: Sendable {
    private let lastDraw = Mutex<Double>(0)

    /// A progress line when stderr is a terminal, else nil (silent when piped, and with --json or --quiet).
    static func forStandardError() -> ProgressLine? {
        Console.mode.allowsProgress && isatty(STDERR_FILENO) == 1 ? ProgressLine() : nil
    }

    func update(_ progress: CreateProgress) {
        guard isDue(elapsed: progress.elapsed, force: progress.finishing) else { return }
        let rate = progress.elapsed > 0 ? Double(progress.bytesRead) / progress.elapsed : 0
        var text = "files \(progress.filesDone)/\(progress.filesTotal)"
        text += "  read \(BackupFormatting.size(progress.bytesRead))/\(BackupFormatting.size(progress.bytesTotal))"
        text += "  uploaded \(BackupFormatting.size(progress.bytesUploaded))"
        text += "  \(BackupFormatting.size(UInt64(rate)))/s"
        if rate > 0 && progress.bytesTotal > progress.bytesRead && !progress.finishing {
            text += String(format: "  ETA %.0f s", Double(progress.bytesTotal - progress.bytesRead) / rate)
        }
        if progress.finishing { text += "  finishing…" }
        draw(text)
    }

    /// Whether to redraw now: at most five times a second, unless `force`d.
    func isDue(elapsed: Double, force: Bool) -> Bool {
        lastDraw.withLock { last in
            guard elapsed - last >= 0.2 || force || elapsed < last else { return false }
            last = elapsed
            return true
        }
    }

    /// Replaces the line with `text`.
    func draw(_ text: String) { FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8)) }

    func clear() { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
}

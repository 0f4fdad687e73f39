import Foundation
import SQBackup

extension ProgressLine {
    /// Files and bytes copied of a restore, the rate and the time left; "planning" while the
    /// snapshot is still compared with the target.
    func update(_ progress: RestoreProgress) {
        guard isDue(elapsed: progress.elapsed, force: progress.finished) else { return }
        if progress.planning {
            draw(String(format: "restore: comparing the snapshot with the target… %.0f s", progress.elapsed))
            return
        }
        let rate = progress.elapsed > 0 ? Double(progress.bytesWritten) / progress.elapsed : 0
        var text = "files \(progress.filesDone)/\(progress.filesTotal)"
        text +=
            "  written \(BackupFormatting.size(progress.bytesWritten))/\(BackupFormatting.size(progress.bytesTotal))"
        text += "  \(BackupFormatting.size(UInt64(rate)))/s"
        if rate > 0 && progress.bytesTotal > progress.bytesWritten && !progress.finished {
            text += String(format: "  ETA %.0f s", Double(progress.bytesTotal - progress.bytesWritten) / rate)
        }
        draw(text)
    }
}

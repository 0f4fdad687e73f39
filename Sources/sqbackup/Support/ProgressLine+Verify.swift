import Foundation
import SQBackup

extension ProgressLine {
    /// Bytes checked of the backup being verified, the rate and the time left.
    func update(_ progress: VerifyProgress) {
        let finished = progress.bytesChecked >= progress.bytesTotal
        guard isDue(elapsed: progress.elapsed, force: finished) else { return }
        let rate = progress.elapsed > 0 ? Double(progress.bytesChecked) / progress.elapsed : 0
        var text = "verify \(progress.id.prefix(8))"
        text += "  \(BackupFormatting.size(progress.bytesChecked))/\(BackupFormatting.size(progress.bytesTotal))"
        text += "  \(BackupFormatting.size(UInt64(rate)))/s"
        if rate > 0 && !finished {
            text += String(format: "  ETA %.0f s", Double(progress.bytesTotal - progress.bytesChecked) / rate)
        }
        draw(text)
    }
}

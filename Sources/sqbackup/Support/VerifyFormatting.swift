import SQBackup

/// The text `sqbackup verify` prints for one backup.
enum VerifyFormatting {
    static func text(_ report: VerifyReport) -> String {
        var lines: [String] = []
        let size = BackupFormatting.size(report.bytesChecked)
        if report.ok {
            if report.verified {
                let what =
                    report.imageHashFromBlocks
                    ? "every block, which together are the whole image" : "every block and the image hash"
                lines.append("\(report.id): OK (\(size) checked: \(what))")
            } else {
                let hash =
                    report.imageHash == .ok ? "the image hash matches" : "no image hash recorded either"
                lines.append("\(report.id): unverified: no block digests recorded; \(size) read, \(hash)")
            }
            return lines.joined(separator: "\n")
        }
        lines.append("\(report.id): DAMAGED")
        if report.tableOk == false { lines.append("  the digest table of backup \(report.id) is damaged") }
        for region in report.damaged {
            var line = "  \(region.kind.rawValue) block at offset \(region.offset), \(region.length) bytes"
            switch region.kind {
            case .metadata: line = "  metadata damaged at offset \(region.offset), \(region.length) bytes"
            case .superblock: line = "  superblock damaged at offset \(region.offset), \(region.length) bytes"
            case .data, .fragment:
                if !region.files.isEmpty { line += ": " + region.files.joined(separator: ", ") }
            }
            lines.append(line)
        }
        if report.imageHash == .mismatch { lines.append("  the image differs from the hash meta.json records") }
        for note in report.notes where !note.hasPrefix("the digest table") { lines.append("  \(note)") }
        return lines.joined(separator: "\n")
    }
}

import Foundation
import SQBackup

/// Human-readable renderings of backups for the terminal.
enum BackupFormatting {
    static func size(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// A short local date-time: "2026-11-29 19:20".
    static func date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    static func table(_ backups: [BackupMetadata], now: Date = Date()) -> String {
        var rows = [["ID", "CREATED", "EXPIRES", "SIZE", "SANDBOX", "DIR", "DESCRIPTION"]]
        for meta in backups {
            rows.append([
                meta.id, date(meta.createdAt), meta.isExpired(at: now) ? "expired" : date(meta.expiresAt),
                size(meta.sizeBytes), meta.sandboxId ?? "-", meta.dir, meta.description ?? "",
            ])
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }

    static func details(_ meta: BackupMetadata, now: Date = Date()) -> String {
        var lines: [(String, String)] = [
            ("id", meta.id), ("dir", meta.dir), ("sandbox", meta.sandboxId ?? "-"),
            ("size", "\(size(meta.sizeBytes)) (\(meta.sizeBytes) bytes)"),
            ("created", BackupJSON.format(meta.createdAt)),
            ("expires", BackupJSON.format(meta.expiresAt) + (meta.isExpired(at: now) ? " (expired)" : "")),
        ]
        if let description = meta.description { lines.append(("description", description)) }
        for (key, value) in (meta.metadata ?? [:]).sorted(by: { $0.key < $1.key }) {
            lines.append(("meta \(key)", value))
        }
        if let files = meta.fileCount { lines.append(("files", String(files))) }
        if let compressor = meta.compressor {
            lines.append(("compressor", compressor + (meta.compressionLevel.map { " level \($0)" } ?? "")))
        }
        if let blockSize = meta.blockSize { lines.append(("block size", size(UInt64(blockSize)))) }
        if let sha256 = meta.sha256 { lines.append(("sha256", sha256)) }
        if let composite = meta.compositeSha256 {
            lines.append(
                (
                    "composite sha256",
                    "\(composite.sha256) (\(composite.partCount) parts of \(composite.partSize) bytes)"
                ))
        }
        if let digests = meta.blockDigests {
            lines.append(("block digests", "\(digests.count) (sha256 \(digests.sha256)); reads are verified"))
        } else {
            lines.append(("block digests", "none: unverified (reads cannot be checked)"))
        }
        let width = lines.map(\.0.count).max() ?? 0
        return lines.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }
            .joined(separator: "\n")
    }
}

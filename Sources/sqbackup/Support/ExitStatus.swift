import ArgumentParser
import SQBackup

/// The exit statuses of every command, in one place: the commands exit with these, and the root
/// command's help and the README's table are rendered from them (`sqbackup exit-codes`).
struct ExitStatus: Sendable, Equatable {
    /// The number the process exits with.
    let value: Int32
    /// The code an error with this status carries (`--json` errors name it too).
    let code: String
    /// What a script may conclude from it.
    let meaning: String

    // Meanings fit one 80-column line of `--help` each.
    static let success = ExitStatus(value: 0, code: "OK", meaning: "done")
    static let failed = ExitStatus(
        value: 1, code: "FAILED", meaning: "failed; the error's code says why (INVALID_BACKUP_CONFIG, …)")
    static let partialRestore = ExitStatus(
        value: 3, code: "RESTORE_PARTIAL",
        meaning: "partial restore: the entries listed were not restored, the rest was")
    static let notFound = ExitStatus(
        value: 4, code: BackupError.Code.notFound.rawValue,
        meaning: "not found: no such backup, image, mount or lazy root (BACKUP_NOT_FOUND)")
    static let expired = ExitStatus(
        value: 5, code: BackupError.Code.expired.rawValue,
        meaning: "the backup has expired and is no longer served (BACKUP_EXPIRED)")
    static let damaged = ExitStatus(
        value: 6, code: BackupError.Code.damaged.rawValue,
        meaning: "verify found damaged blocks or a wrong image hash (BACKUP_DAMAGED)")
    static let busy = ExitStatus(
        value: 7, code: BackupError.Code.busy.rawValue,
        meaning: "busy (BACKUP_BUSY, or files open under the mountpoint); try again later")
    static let usage = ExitStatus(value: 64, code: "USAGE", meaning: "usage: a bad flag or argument (EX_USAGE)")
    static let interrupted = ExitStatus(
        value: 130, code: BackupError.Code.interrupted.rawValue,
        meaning: "interrupted by SIGINT or SIGTERM (OPERATION_INTERRUPTED)")

    /// Every status, in order.
    static let all: [ExitStatus] = [
        success, failed, partialRestore, notFound, expired, damaged, busy, usage, interrupted,
    ]

    /// The status a facade error exits with.
    static func of(_ error: BackupError) -> ExitStatus {
        if case .busy? = error.reason { return busy }
        switch error.code {
        case .notFound: return notFound
        case .expired: return expired
        case .damaged: return damaged
        case .busy: return busy
        case .interrupted: return interrupted
        case .invalidConfig, .createFailed, .restoreFailed, .invalidImage, .mountFailed: return failed
        }
    }

    /// The status of several failures (`verify ID…`): theirs when they agree, else 1.
    static func combined(_ statuses: [ExitStatus]) -> ExitStatus {
        guard let first = statuses.first else { return success }
        return statuses.allSatisfy { $0 == first } ? first : failed
    }

    var exitCode: ExitCode { ExitCode(value) }

    /// The table for `--help`: one status a line, the meaning wrapped under it by the parser.
    static var helpText: String {
        let lines = all.map { status in
            let number = String(status.value)
            return "  " + number + String(repeating: " ", count: max(1, 5 - number.count)) + status.meaning
        }
        return (["EXIT STATUS:"] + lines).joined(separator: "\n")
    }

    /// The README's table, in Markdown.
    static var markdownTable: String {
        (["| exit status | meaning |", "|---|---|"] + all.map { "| \($0.value) | \($0.meaning) |" })
            .joined(separator: "\n")
    }
}

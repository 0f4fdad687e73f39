import ArgumentParser
import Foundation
import Logging
import SQBackup
import Synchronization

/// Everything a command prints goes through here, so that --json, --quiet and --verbose mean the
/// same in every command: the result on stdout (text, or one JSON document), diagnostics on
/// stderr (text lines, or one JSON object a line).
enum Console {
    private static let current = Mutex(OutputMode())
    private static let bootstrapped = Mutex(false)

    static var mode: OutputMode { current.withLock { $0 } }

    /// Called first by every command: remembers the mode and sets the log level of every logger
    /// (debug with --verbose, errors only with --quiet, else warnings).
    static func start(_ flags: OutputFlags) { start(flags.mode) }

    static func start(_ mode: OutputMode) {
        current.withLock { $0 = mode }
        let level: Logger.Level = mode.verbose ? .debug : mode.quiet ? .error : .warning
        let already = bootstrapped.withLock { done in
            defer { done = true }
            return done
        }
        guard !already else { return }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// A logger for details only --verbose shows.
    static let logger = Logger(label: "sqbackup")

    /// The result the command was asked for, as text: printed even with --quiet.
    static func result(_ text: String) { print(text) }

    /// A text summary nobody asked for by name: left out with --quiet (and never printed with --json,
    /// where the command prints its document instead).
    static func info(_ text: String) {
        guard !mode.quiet, !mode.json else { return }
        print(text)
    }

    /// The command's result as one JSON document on stdout, flushed at once (a foreground mount
    /// prints it and then serves for as long as it runs).
    static func document<T: Encodable>(_ value: T) throws {
        print(String(decoding: try BackupJSON.encoder().encode(value), as: UTF8.self))
        fflush(nil)
    }

    /// A warning on stderr, left out with --quiet.
    static func warning(_ message: String, code: String? = nil) {
        guard !mode.quiet else { return }
        if mode.json {
            diagnostic(Diagnostic(warning: .init(code: code, message: message)))
        } else {
            standardError("sqbackup: warning: " + (code.map { "\($0): " } ?? "") + message)
        }
    }

    /// A line about an entry or item that failed while the command went on (an entry a restore
    /// left out): shown even with --quiet, since it explains the exit status.
    static func problem(_ text: String) {
        guard !mode.json else { return }
        standardError("sqbackup: \(text)")
    }

    /// Prints a facade error (with the flag that helps) and returns the status to exit with.
    static func fail(_ error: BackupError) -> ExitCode {
        let status = ExitStatus.of(error)
        return fail(code: error.code.rawValue, message: FlagHints.message(error), status: status)
    }

    /// Prints an error as "sqbackup: CODE: message" (or a JSON line) and returns its exit status.
    static func fail(code: String, message: String, status: ExitStatus) -> ExitCode {
        if mode.json {
            diagnostic(Diagnostic(error: .init(code: code, message: message, exitStatus: status.value)))
        } else {
            standardError("sqbackup: \(code): \(message)")
        }
        return status.exitCode
    }

    private static func diagnostic(_ value: Diagnostic) {
        guard let data = try? BackupJSON.encoder(pretty: false).encode(value) else { return }
        standardError(String(decoding: data, as: UTF8.self))
    }

    static func standardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

import ArgumentParser
import Foundation
import Logging
import SQBackup
import Synchronization

/// Shared plumbing for commands: logging set-up and error reporting with stable codes.
enum CommandSupport {
    private static let bootstrapped = Mutex(false)

    static func bootstrapLogging(verbose: Bool) {
        let already = bootstrapped.withLock { done in
            defer { done = true }
            return done
        }
        guard !already else { return }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .debug : .warning
            return handler
        }
    }

    /// Exit statuses besides 0 and the argument parser's 64 (usage): documented in `ExitStatusText`.
    enum Status {
        /// Any failure with a code.
        static let failed = ExitCode(1)
        /// A restore that left out some entries (listed) and restored the rest.
        static let partialRestore = ExitCode(3)
        /// Stopped by SIGINT or SIGTERM (OPERATION_INTERRUPTED), as shells report 128 + SIGINT.
        static let interrupted = ExitCode(130)
    }

    /// Runs `body`, printing any failure as "sqbackup: CODE: message" and exiting 1 (130 for
    /// OPERATION_INTERRUPTED).
    static func reporting<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ExitCode {
            throw error
        } catch let error as BackupError {
            printError(FlagHints.report(error))
            throw error.code == .interrupted ? Status.interrupted : Status.failed
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("sqbackup: \(message)\n".utf8))
    }

    /// A warning the user should see, on stderr (stdout stays clean for `--json`).
    static func printWarning(_ message: String) {
        FileHandle.standardError.write(Data("sqbackup: warning: \(message)\n".utf8))
    }

    /// The notice for reads that cannot be checked, or nil when they are.
    static func unverifiedNotice(_ reason: String?) -> String? {
        reason.map { "unverified: \($0); a damaged block would be served as it is" }
    }

    /// An absolute, normalized form of a user-given path (the daemon runs from "/").
    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL.path
    }

    /// Parses sizes such as "512M", "2G", "65536".
    static func parseSize(_ text: String) throws -> Int {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = text.uppercased()
        if digits.hasSuffix("IB") { digits.removeLast(2) } else if digits.hasSuffix("B") { digits.removeLast() }
        var multiplier = 1
        if let last = digits.last, let unit = units[last] {
            multiplier = unit
            digits.removeLast()
        }
        guard let value = Int(digits), value >= 0 else {
            throw ValidationError("invalid size '\(text)': use a number with an optional K, M, G or T suffix")
        }
        return value * multiplier
    }

    /// Parses durations such as "36h", "90m", "7d", "3600" (seconds) into seconds.
    static func parseDuration(_ text: String) throws -> Double {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400]
        var digits = text.lowercased()
        var multiplier = 1.0
        if let last = digits.last, let unit = units[last] {
            multiplier = unit
            digits.removeLast()
        }
        guard let value = Double(digits), value >= 0, value.isFinite else {
            throw ValidationError("invalid duration '\(text)': use a number with an optional s, m, h, d or w suffix")
        }
        return value * multiplier
    }

    /// Parses repeated KEY=VALUE options.
    static func parseKeyValues(_ items: [String], option: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for item in items {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw ValidationError("\(option) expects KEY=VALUE, not '\(item)'")
            }
            result[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        return result
    }
}

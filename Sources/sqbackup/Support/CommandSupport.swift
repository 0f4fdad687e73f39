import ArgumentParser
import Foundation
import SQBackup

/// Shared plumbing for commands: error reporting with stable codes and exit statuses, parsing of sizes and durations.
enum CommandSupport {
    /// Logging for a command without output flags (the internal hydrate-root).
    static func bootstrapLogging(verbose: Bool) { Console.start(OutputMode(verbose: verbose)) }

    /// Runs `body`, printing any failure as "sqbackup: CODE: message" (a JSON line with --json)
    /// and exiting with the failure's status (`ExitStatus`).
    static func reporting<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ExitCode {
            throw error
        } catch let error as BackupError {
            throw Console.fail(error)
        } catch {
            throw Console.fail(code: ExitStatus.failed.code, message: "\(error)", status: .failed)
        }
    }

    /// `reporting` for a call of the facade.
    static func reportingAsync<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ExitCode {
            throw error
        } catch let error as BackupError {
            throw Console.fail(error)
        } catch {
            throw Console.fail(code: ExitStatus.failed.code, message: "\(error)", status: .failed)
        }
    }

    /// An error line on stderr ("sqbackup: message"), as a JSON error with --json.
    static func printError(_ message: String) {
        if Console.mode.json {
            _ = Console.fail(code: ExitStatus.failed.code, message: message, status: .failed)
        } else {
            Console.standardError("sqbackup: \(message)")
        }
    }

    /// A warning the user should see, on stderr (stdout stays clean for `--json`); none with --quiet.
    static func printWarning(_ message: String) { Console.warning(message) }

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

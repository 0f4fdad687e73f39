import ArgumentParser
import Foundation
import Logging
import SQBackup

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

    /// Runs `body`, printing any failure as "sqbackup: CODE: message" and exiting 1.
    static func reporting<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ExitCode {
            throw error
        } catch let error as BackupError {
            printError("\(error.code.rawValue): \(error.message)")
            throw ExitCode(1)
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("sqbackup: \(message)\n".utf8))
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
}

import Synchronization

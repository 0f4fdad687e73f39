import Foundation

/// Turns what git ignores in a work tree into exclude patterns.
enum GitIgnoreExcludes {
    /// Anchored patterns for every path `git ls-files --others --ignored --exclude-standard --directory`
    /// reports in `directory` (ignored directories as a whole).
    static func patterns(in directory: String) throws -> [String] {
        let inside = try git(["rev-parse", "--is-inside-work-tree"], in: directory)
        guard inside.status == 0, String(decoding: inside.output, as: UTF8.self).hasPrefix("true") else {
            throw BackupError(
                .invalidConfig, "\(directory) is not inside a git work tree, so there are no git ignores to leave out",
                reason: .notAGitWorkTree(directory: directory))
        }
        let listed = try git(
            ["ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"], in: directory)
        guard listed.status == 0 else {
            throw BackupError(
                .createFailed, "git ls-files failed in \(directory)", reason: .gitIgnoreUnavailable)
        }
        return listed.output.split(separator: 0).map { entry in
            "/" + escaped(String(decoding: entry, as: UTF8.self))
        }
    }

    /// Glob metacharacters in a literal path, escaped.
    static func escaped(_ path: String) -> String {
        var result = ""
        for character in path {
            if "*?[]\\".contains(character) { result.append("\\") }
            result.append(character)
        }
        return result
    }

    private static func git(_ arguments: [String], in directory: String) throws -> (status: Int32, output: [UInt8]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", directory] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw BackupError(
                .invalidConfig, "leaving out what git ignores needs git, which could not be started: \(error)",
                reason: .gitIgnoreUnavailable)
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, Array(data))
    }
}

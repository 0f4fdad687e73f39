import Foundation

/// Runs external programs (oracles such as unsquashfs, mksquashfs, the sqbackup binary) for tests.
public enum Shell {
    /// The outcome of one program run.
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var succeeded: Bool { status == 0 }
    }

    /// Runs `arguments[0]` (looked up in PATH) with the rest as arguments and waits for it.
    @discardableResult
    public static func run(
        _ arguments: [String], environment: [String: String]? = nil, input: Data? = nil,
        timeout: TimeInterval = 300
    ) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // Children start with SIGPIPE at its default, as from a shell, though this test process
        // ignores it (ScriptServer): a program or script that would die of it must do so here too.
        process.arguments = ["--default-signal=PIPE"] + arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("sh-\(UUID().uuidString).out")
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("sh-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        // Files, not pipes: a chatty child can never block on a full pipe.
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        process.standardOutput = outHandle
        process.standardError = errHandle
        if let input {
            let inURL = FileManager.default.temporaryDirectory.appendingPathComponent("sh-\(UUID().uuidString).in")
            try input.write(to: inURL)
            process.standardInput = try FileHandle(forReadingFrom: inURL)
            // The open handle keeps the data readable after the name is gone.
            try? FileManager.default.removeItem(at: inURL)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        guard process.waitForExit(timeout: timeout) else {
            throw ShellError.timedOut(arguments.joined(separator: " "))
        }
        try outHandle.close()
        try errHandle.close()
        return Output(
            status: process.terminationStatus,
            stdout: String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self),
            stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self))
    }

    /// Runs a program and throws with its stderr when it fails.
    @discardableResult
    public static func check(_ arguments: [String], environment: [String: String]? = nil) throws -> String {
        let output = try run(arguments, environment: environment)
        guard output.succeeded else {
            throw ShellError.failed(arguments.joined(separator: " "), output.status, output.stderr + output.stdout)
        }
        return output.stdout
    }

    /// Whether a program is on PATH.
    public static func has(_ program: String) -> Bool {
        (try? run(["sh", "-c", "command -v \(program)"]).succeeded) ?? false
    }
}

extension Process {
    /// Waits up to `timeout` seconds; a child still running then is killed (SIGKILL: one started
    /// while signals were ignored would ignore SIGTERM too) and reaped, and this returns false.
    public func waitForExit(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning && Date() < deadline { usleep(5_000) }
        guard isRunning else {
            waitUntilExit()
            return true
        }
        kill(processIdentifier, SIGKILL)
        waitUntilExit()
        return false
    }
}

/// Why a test's helper program failed.
public enum ShellError: Error, CustomStringConvertible {
    case failed(String, Int32, String)
    case timedOut(String)

    public var description: String {
        switch self {
        case .failed(let command, let status, let output): return "`\(command)` exited \(status): \(output)"
        case .timedOut(let command): return "`\(command)` timed out"
        }
    }
}

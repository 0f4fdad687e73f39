import Foundation

/// A helper server written in Python (Tests/Servers), driven by lines on its stdin/stdout.
///
/// The child exits when its stdin closes, so it dies with the test process. A missing
/// interpreter or module fails loudly with the command that installs it.
public final class ScriptServer: @unchecked Sendable {
    /// The `READY …` line's `key=value` fields.
    public let ready: [String: String]
    private let process: Process
    private let input: FileHandle
    private let lines: LineQueue
    private let lock = NSLock()

    /// Starts `python3 Tests/Servers/<script> arguments…` and waits for its READY line.
    public init(script: String, arguments: [String], environment: [String: String] = [:], timeout: Double = 60) throws {
        let scriptPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Servers").appendingPathComponent(script).path
        guard FileManager.default.fileExists(atPath: scriptPath) else {
            throw ScriptServerError(message: "test server script missing: \(scriptPath)")
        }
        // A server that died would otherwise take this whole test process with it on the next
        // command (a write to its closed stdin); ignored, the write fails and the test says so.
        signal(SIGPIPE, SIG_IGN)
        // The server's stderr goes to a file that has no name once both ends are open, so that
        // no run leaves logs behind; it is read only when the server fails to start.
        let stderrPath = NSTemporaryDirectory() + "/\(script)-\(UUID().uuidString.prefix(8)).log"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let stderrLog = try FileHandle(forReadingFrom: URL(fileURLWithPath: stderrPath))
        let stderrOut = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try? FileManager.default.removeItem(atPath: stderrPath)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scriptPath] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let stdinPipe = Pipe()
        let stdoutPipe = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = stderrOut
        do {
            try process.run()
        } catch {
            throw ScriptServerError(
                message: "cannot start python3 (\(error)); install Python 3 and run: pip install 'moto[server]'")
        }
        self.process = process
        input = stdinPipe.fileHandleForWriting
        lines = LineQueue(stdoutPipe.fileHandleForReading)
        guard let line = lines.next(timeout: timeout), line.hasPrefix("READY") else {
            process.terminate()
            let log = String(decoding: (try? stderrLog.readToEnd()) ?? Data(), as: UTF8.self)
            throw ScriptServerError(
                message: """
                    \(script) did not start. The store tests need Python 3 with moto's server:
                        pip install 'moto[server]'
                    Its stderr:
                    \(log.suffix(2000))
                    """)
        }
        var fields: [String: String] = [:]
        for word in line.split(separator: " ").dropFirst() {
            let parts = word.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        ready = fields
    }

    deinit { stop() }

    /// The port the server listens on.
    public var port: Int { Int(ready["port"] ?? "") ?? 0 }

    /// Sends one command line and returns the server's one-line answer.
    public func command(_ line: String, timeout: Double = 30) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        try input.write(contentsOf: Data((line + "\n").utf8))
        guard let answer = lines.next(timeout: timeout) else {
            throw ScriptServerError(message: "no answer to \(line.split(separator: " ").first ?? "")")
        }
        return answer
    }

    /// Closes the server's stdin (it exits).
    public func stop() {
        try? input.close()
        if process.isRunning {
            process.terminate()
        }
    }
}

/// Why a test server could not be used.
public struct ScriptServerError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Lines read from a pipe on a thread of its own.
private final class LineQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var lines: [String] = []
    private var closed = false

    init(_ handle: FileHandle) {
        let thread = Thread { [self] in
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    condition.lock()
                    lines.append(line)
                    condition.signal()
                    condition.unlock()
                }
            }
            condition.lock()
            closed = true
            condition.broadcast()
            condition.unlock()
        }
        thread.start()
    }

    func next(timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while lines.isEmpty && !closed {
            if !condition.wait(until: deadline) { break }
        }
        return lines.isEmpty ? nil : lines.removeFirst()
    }
}

import ArgumentParser
import CSystemShims
import Foundation
import SQBackup

#if canImport(Glibc)
    import Glibc
#endif

/// Starts the mount daemon as a fresh process (fork is unsafe once threads exist) and waits
/// until it reports "ready" or an error on a pipe.
enum DaemonLauncher {
    @discardableResult
    static func launch(arguments: [String]) throws -> LaunchedDaemon {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw BackupError(.mountFailed, "pipe: \(String(cString: strerror(errno)))")
        }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        let executable = "/proc/self/exe"
        let argv = ([CommandLine.arguments.first ?? "sqbackup"] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = sqb_spawn_detached(executable, argv, environ, writeEnd, &pid)
        close(writeEnd)
        guard status == 0 else {
            close(readEnd)
            throw BackupError(.mountFailed, "cannot start the mount daemon: \(String(cString: strerror(status)))")
        }
        var message = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(readEnd, &buffer, buffer.count)
            if count > 0 {
                message += buffer[0..<count]
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        close(readEnd)
        var lines = String(decoding: message, as: UTF8.self).split(separator: "\n").map(String.init)
        // Notices (e.g. "reads are unverified") come before the verdict; the user sees them here,
        // since the daemon's own stderr is detached.
        var notices: [String] = []
        while let first = lines.first, first.hasPrefix(ReadinessPipe.noticePrefix) {
            notices.append(String(first.dropFirst(ReadinessPipe.noticePrefix.count)))
            CommandSupport.printWarning(notices[notices.count - 1])
            lines.removeFirst()
        }
        let text = lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        if text == "ready" { return LaunchedDaemon(pid: pid, notices: notices) }
        var exitStatus: Int32 = 0
        waitpid(pid, &exitStatus, 0)
        if text.hasPrefix("error: ") {
            // The daemon already classified the failure ("CODE: message"); pass it on as it was.
            let reported = text.dropFirst("error: ".count)
            if let colon = reported.range(of: ": "),
                let code = BackupError.Code(rawValue: String(reported[..<colon.lowerBound]))
            {
                throw BackupError(code, String(reported[colon.upperBound...]))
            }
            throw BackupError(.mountFailed, String(reported))
        }
        throw BackupError(
            .mountFailed, "the mount daemon exited before the mount was ready (wait status \(exitStatus))")
    }

    /// Once ready, a daemon must not hold the terminal or the launcher's pipes open.
    static func detachStandardStreams(logFile: String?) {
        let null = open("/dev/null", O_RDWR)
        if null >= 0 {
            dup2(null, STDIN_FILENO)
            dup2(null, STDOUT_FILENO)
        }
        let log = logFile.map { open($0, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600) } ?? -1
        dup2(log >= 0 ? log : null, STDERR_FILENO)
        if log >= 0 { close(log) }
        if null > STDERR_FILENO { close(null) }
        _ = chdir("/")
    }
}

/// The daemon's end of the readiness pipe.
struct ReadinessPipe {
    let fd: Int32

    static let noticePrefix = "notice: "

    /// Reports the mount ready, after `notices` for the user (one line each).
    func ready(notices: [String] = []) {
        send(notices.map { Self.noticePrefix + $0 + "\n" }.joined() + "ready\n")
    }

    func fail(_ message: String) { send("error: \(message)\n") }

    private func send(_ text: String) {
        var bytes = Array(text.utf8)
        _ = write(fd, &bytes, bytes.count)
        close(fd)
    }
}

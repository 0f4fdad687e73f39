import Crypto
import Foundation
import Storage

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive `flock(2)` on a directory's lock file, held by a restore into the directory and
/// by a create of it, so that no two of them interleave. The kernel drops the lock when its
/// holder exits, however it exits, so a killed process never leaves the directory locked.
///
/// Lock files live in the state directory (`LazyRoot.stateRoot`): `locks/<hash of the
/// directory's real path>.lock`, holding the operation and pid of the holder (for the error that
/// names it). Processes with different state directories (other users, `SQBACKUP_STATE_DIR`) do
/// not see each other's locks.
final class DirectoryLock: Sendable {
    private let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// Takes the lock of `directory` for `operation` ("restore", "create"). Busy: throws
    /// BACKUP_BUSY at once, or with `wait` polls until it is free (OPERATION_INTERRUPTED if
    /// `cancellation` is set meanwhile).
    static func acquire(
        directory: String, operation: String, stateRoot: String, wait: Bool, cancellation: CancellationFlag?
    ) throws -> DirectoryLock {
        let key = realPath(directory)
        let path = lockPath(of: directory, stateRoot: stateRoot)
        let locks = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(
                atPath: locks, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw BackupError(.invalidConfig, "lock directory \(locks): \(error.localizedDescription)")
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw BackupError(.invalidConfig, "lock \(path): \(String(cString: strerror(errno)))")
        }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = Self.holder(fd)
            guard errno == EWOULDBLOCK, wait else {
                close(fd)
                let who = holder.map { "\($0) of it is running" } ?? "another restore or create of it is running"
                throw BackupError(
                    .busy, "\(key) is busy: \(who); try again when it has finished",
                    reason: .directoryBusy(path: key, holder: holder))
            }
            if let why = cancellation?.cancelReason {
                close(fd)
                throw BackupError(
                    .interrupted, "\(why) while waiting for \(key) (\(holder ?? "busy")); nothing was done")
            }
            usleep(100_000)
        }
        let record = Array("\(operation) \(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = record.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return DirectoryLock(fd: fd)
    }

    /// Lets the next operation in (the kernel does the same when the process exits).
    func release() { _ = flock(fd, LOCK_UN) }

    /// "a restore (pid 123)", from the holder's record, when it wrote one.
    private static func holder(_ fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let words = String(decoding: buffer[0..<count], as: UTF8.self).split(whereSeparator: \.isWhitespace)
        guard words.count == 2, let pid = Int32(words[1]) else { return nil }
        return "a \(words[0]) (pid \(pid))"
    }

    /// `<stateRoot>/locks/<hash of the real path>.lock`: the file whose lock stands for `directory`.
    static func lockPath(of directory: String, stateRoot: String) -> String {
        let digest = SHA256.hash(data: Data(realPath(directory).utf8)).map { String(format: "%02x", $0) }.joined()
        return stateRoot + "/locks/" + digest.prefix(20) + ".lock"
    }

    /// The directory's real path, so that every spelling of it takes the same lock; for a
    /// directory not created yet, its parent's real path and its name.
    static func realPath(_ directory: String) -> String {
        guard let resolved = realpath(directory, nil) else { return LazyRoot.canonical(directory) }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

import Foundation
import Logging
import SquashReader
import Storage
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Answers status queries for one mount daemon on its unix socket until stopped.
final class StatusServer: Sendable {
    private let path: String
    private let fd: Int32
    private let stopped = Atomic<Bool>(false)

    /// Binds the daemon's socket; returns nil (and logs) when the runtime directory is unusable,
    /// since a mount must not fail just because its status can't be published.
    convenience init?(
        mountpoint: String, source: String, statistics: ReaderStatistics, requests: RequestMeter?, logger: Logger
    ) {
        self.init(mountpoint: mountpoint, logger: logger) { startedAt in
            MountStatus(
                pid: getpid(), mountpoint: mountpoint, source: source, startedAt: startedAt, statistics: statistics,
                requests: requests?.snapshot)
        }
    }

    /// As above, answering each query with what `status` makes of the daemon's start time.
    init?(mountpoint: String, logger: Logger, status: @escaping @Sendable (_ startedAt: Date) -> MountStatus) {
        let directory = StatusChannel.directory()
        try? FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        path = StatusChannel.socketPath(pid: getpid(), directory: directory)
        unlink(path)
        guard var address = StatusChannel.address(path) else { return nil }
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
            logger.warning(
                "status socket \(path): \(String(cString: strerror(errno))); `sqbackup status` won't see this mount")
            close(fd)
            return nil
        }
        chmod(path, 0o600)
        let startedAt = Date()
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let listener = fd
        let thread = Thread { [self] in
            while !stopped.load(ordering: .relaxed) {
                let client = accept(listener, nil, nil)
                if client < 0 {
                    if errno == EINTR { continue }
                    break
                }
                if let data = try? encoder.encode(status(startedAt)) {
                    // MSG_NOSIGNAL: a client gone before the answer must not SIGPIPE the daemon,
                    // whose SIGPIPE is ignored only while the mount is served.
                    data.withUnsafeBytes { _ = send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                }
                close(client)
            }
        }
        thread.name = "sqbackup.status"
        thread.start()
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        unlink(path)
        // Wakes the accept() so the thread sees the flag.
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}

import CFuse3
import Dispatch
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The threads that read FUSE requests and answer them: one to start with, another whenever all
/// are busy (up to `maxWorkers`), a busy one retiring when enough others are idle.
///
/// libfuse's own `fuse_session_loop_mt` does the same but ends by `pthread_cancel`ing the
/// workers, and its workers take cancellation while they read, which includes the `perror` of a
/// failed read (ECONNABORTED happens during unmounts under load). A worker cancelled inside
/// perror leaves stderr's stdio lock held, and every later write to stderr in the process
/// blocks for ever. Here no thread is ever cancelled: once the kernel ends the connection, every
/// read fails and each worker leaves by itself.
struct RequestWorkers: Sendable {
    private let session: SessionHandle
    private let maxWorkers: Int
    private let maxIdle = 10
    private let state = Shared()
    private let logger: Logger
    private let onError: @Sendable () -> Void

    private final class Shared: Sendable {
        struct Counts {
            var workers = 0
            var idle = 0
            var status: Int32 = 0
        }
        let counts = Mutex(Counts())
        let running = DispatchGroup()
    }

    /// `onError` runs once if a read fails in a way that does not end the connection, so that
    /// the caller can detach the mount (the other workers then see it end).
    init(session: SessionHandle, maxWorkers: Int, logger: Logger, onError: @escaping @Sendable () -> Void) {
        self.session = session
        self.maxWorkers = max(1, maxWorkers)
        self.logger = logger
        self.onError = onError
    }

    /// Serves until the connection ends; returns 0, or the negative errno of a failed read.
    func run() -> Int32 {
        state.counts.withLock {
            $0.workers = 1
            $0.idle = 1
        }
        start()
        state.running.wait()
        return state.counts.withLock { $0.status }
    }

    private func start() {
        state.running.enter()
        let thread = Thread { [self] in
            work()
            state.running.leave()
        }
        thread.name = "sqbackup.fuse"
        thread.start()
    }

    private func work() {
        // As in libfuse: signals go to the threads that wait for them, never to a worker.
        var blocked = sigset_t()
        sigfillset(&blocked)
        pthread_sigmask(SIG_BLOCK, &blocked, nil)
        var buffer = fuse_buf()
        defer { free(buffer.mem) }
        let pointer = session.pointer
        while fuse_session_exited(pointer) == 0 {
            let received = fuse_session_receive_buf(pointer, &buffer)
            if received == -EINTR { continue }
            if received <= 0 {
                // 0: the kernel ended the connection (ENODEV; libfuse marked the session exited).
                if received < 0 { failed(received) }
                break
            }
            let another = state.counts.withLock { counts in
                counts.idle -= 1
                guard counts.idle == 0, counts.workers < maxWorkers else { return false }
                counts.workers += 1
                counts.idle += 1
                return true
            }
            if another { start() }
            fuse_session_process_buf(pointer, &buffer)
            let retire = state.counts.withLock { counts in
                if counts.idle >= maxIdle {
                    counts.workers -= 1
                    return true
                }
                counts.idle += 1
                return false
            }
            if retire { return }
        }
        state.counts.withLock { counts in
            counts.workers -= 1
            counts.idle -= 1
        }
    }

    private func failed(_ received: Int32) {
        fuse_session_exit(session.pointer)
        // An aborted connection is over for every worker, like an unmounted one.
        guard received != -ECONNABORTED else { return }
        let first = state.counts.withLock { counts in
            guard counts.status == 0 else { return false }
            counts.status = received
            return true
        }
        guard first else { return }
        logger.error("reading FUSE requests failed: \(String(cString: strerror(-received))); unmounting")
        onError()
    }
}

/// A libfuse session pointer; libfuse serialises what we call on it from other threads.
struct SessionHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

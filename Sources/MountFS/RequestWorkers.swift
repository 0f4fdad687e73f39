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
final class RequestWorkers: Sendable {
    private struct Counts {
        var workers = 0
        var idle = 0
        var status: Int32 = 0
    }

    private let session: SessionHandle
    private let maxWorkers: Int
    private let maxIdle = 10
    private let counts = Mutex(Counts())
    private let running = DispatchGroup()
    private let logger: Logger
    private let onError: @Sendable () -> Void

    /// `onError` runs once if a read fails in a way that does not end the connection; it should
    /// detach the mount, so that the kernel ends the connection and every worker sees it end.
    init(session: SessionHandle, maxWorkers: Int, logger: Logger, onError: @escaping @Sendable () -> Void) {
        self.session = session
        self.maxWorkers = max(1, maxWorkers)
        self.logger = logger
        self.onError = onError
    }

    /// Serves until the connection ends; returns 0, or the negative errno of a failed read or
    /// of a first worker that could not start.
    func run() -> Int32 {
        counts.withLock {
            $0.workers = 1
            $0.idle = 1
        }
        let started = start()
        guard started == 0 else {
            logger.error("cannot start a FUSE worker thread: \(String(cString: strerror(started)))")
            return -started
        }
        running.wait()
        return counts.withLock { $0.status }
    }

    /// Starts one worker, already counted; returns pthread_create's error (the count is undone).
    private func start() -> Int32 {
        running.enter()
        let context = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let created = pthread_create(
            &thread, nil,
            { raw in
                let workers = Unmanaged<RequestWorkers>.fromOpaque(raw!).takeRetainedValue()
                workers.work()
                workers.running.leave()
                return nil
            }, context.toOpaque())
        guard created == 0 else {
            // Foundation's Thread would ignore this (EAGAIN under a pids limit) and the group
            // would never drain.
            context.release()
            counts.withLock { counts in
                counts.workers -= 1
                counts.idle -= 1
            }
            running.leave()
            return created
        }
        pthread_detach(thread)
        return 0
    }

    private func work() {
        // As libfuse does: the signals a daemon waits for never land on a worker.
        var blocked = sigset_t()
        sigemptyset(&blocked)
        for number in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] { sigaddset(&blocked, number) }
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
            // FORGETs need no answer and come in bursts: as in libfuse, they never add a worker.
            let busy = !Self.isForget(buffer)
            let another = counts.withLock { counts in
                guard busy else { return false }
                counts.idle -= 1
                guard counts.idle == 0, counts.workers < maxWorkers else { return false }
                counts.workers += 1
                counts.idle += 1
                return true
            }
            if another { _ = start() }
            fuse_session_process_buf(pointer, &buffer)
            let retire = counts.withLock { counts in
                guard busy else { return false }
                if counts.idle >= maxIdle {
                    counts.workers -= 1
                    return true
                }
                counts.idle += 1
                return false
            }
            if retire { return }
        }
        counts.withLock { counts in
            counts.workers -= 1
            counts.idle -= 1
        }
    }

    /// The request header (fuse_kernel.h, not installed) starts with a u32 length and a u32
    /// opcode; FUSE_FORGET is 2, FUSE_BATCH_FORGET 42.
    private static func isForget(_ buffer: fuse_buf) -> Bool {
        guard buffer.flags.rawValue & FUSE_BUF_IS_FD.rawValue == 0, let memory = buffer.mem, buffer.size >= 8
        else { return false }
        let opcode = memory.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        return opcode == 2 || opcode == 42
    }

    /// This worker leaves; the others go on serving until the kernel ends the connection, which
    /// an aborted one already is and a detached one will be once its files are closed.
    private func failed(_ received: Int32) {
        guard received != -ECONNABORTED else { return }
        let first = counts.withLock { counts in
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

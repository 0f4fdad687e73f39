import CFuse3
import CFuseShims
import Dispatch
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// libfuse's log lines, kept so that a failed mount can say why.
private let fuseMessages = Mutex<[String]>([])

/// One kernel mount of a `SquashFilesystem` or a `StoreBrowserFilesystem`: session, mount,
/// request workers, unmount.
public final class FuseMount: Sendable {
    public let mountpoint: String
    private let filesystem: FuseFilesystemBox
    private let options: MountOptions
    private let session: Mutex<SessionState>
    /// `major:minor` of the mount this session made (nil if mountinfo did not show it), so that
    /// only that mount is ever detached, not one made later on the same path.
    private let device: String?
    fileprivate let logger: Logger

    /// Checks the mountpoint, creates the FUSE session and mounts it; requests are served by `serve()`.
    public convenience init(
        filesystem: SquashFilesystem, mountpoint: String, options: MountOptions = MountOptions()
    ) throws {
        try self.init(serving: filesystem, mountpoint: mountpoint, options: options)
    }

    /// Mounts a browser of a whole store, as `init(filesystem:mountpoint:options:)` mounts one image.
    public convenience init(
        browser: StoreBrowserFilesystem, mountpoint: String, options: MountOptions = MountOptions()
    ) throws {
        try self.init(serving: browser, mountpoint: mountpoint, options: options)
    }

    private init(serving filesystem: any FuseFilesystem, mountpoint: String, options: MountOptions) throws {
        self.filesystem = FuseFilesystemBox(filesystem)
        self.mountpoint = mountpoint
        self.options = options
        self.logger = filesystem.logger
        try MountpointCheck.validate(mountpoint, allowNonEmpty: options.allowNonEmpty)

        if options.debug {
            // -d traces every request through fuse_log; show it instead of collecting it.
            sqb_fuse_set_log_handler { _, message in
                guard let message else { return }
                _ = write(STDERR_FILENO, message, strlen(message))
            }
        } else {
            sqb_fuse_set_log_handler { _, message in
                guard let message else { return }
                let text = String(cString: message)
                fuseMessages.withLock { $0.append(text) }
            }
        }
        fuseMessages.withLock { $0.removeAll() }

        var arguments = fuse_args(argc: 0, argv: nil, allocated: 0)
        defer { fuse_opt_free_args(&arguments) }
        let mountOptions =
            ["ro", "default_permissions", "fsname=" + Self.escapeOption(options.fsName), "subtype=sqbackup"]
            + options.extraOptions.filter { $0 != "nonempty" }
        for argument in ["sqbackup", "-o", mountOptions.joined(separator: ",")] + (options.debug ? ["-d"] : []) {
            fuse_opt_add_arg(&arguments, argument)
        }
        var operations = makeLowLevelOperations()
        // `self.filesystem` keeps the object alive for as long as the session exists.
        let userdata = Unmanaged.passUnretained(self.filesystem)
        guard
            let created = fuse_session_new(
                &arguments, &operations, MemoryLayout<fuse_lowlevel_ops>.size, userdata.toOpaque())
        else {
            throw MountError.invalidOptions(Self.lastMessages() ?? mountOptions.joined(separator: ","))
        }
        guard fuse_session_mount(created, mountpoint) == 0 else {
            fuse_session_destroy(created)
            throw MountError.mountFailed(Self.lastMessages() ?? "the kernel refused to mount \(mountpoint)")
        }
        session = Mutex(SessionState(handle: SessionHandle(pointer: created)))
        device = MountpointCheck.device(mountedAt: mountpoint)
        if !KernelReadahead.raise(device: device, kilobytes: options.kernelReadaheadKB) {
            logger.debug("kernel readahead for \(mountpoint) left at its default")
        }
    }

    private static func lastMessages() -> String? {
        let messages = fuseMessages.withLock { $0 }
        // libfuse prints one message in several pieces.
        let text = messages.joined().replacingOccurrences(of: "\n", with: " ")
        return text.isEmpty ? nil : text
    }

    /// Commas separate mount options, so they can't appear inside one.
    private static func escapeOption(_ value: String) -> String {
        value.replacingCommas()
    }

    /// Serves requests until the filesystem is unmounted (by `sqbackup unmount`, umount or, with
    /// `unmountOnSignals`, a SIGINT/SIGTERM/SIGHUP), then releases the session. Returns the loop's status.
    ///
    /// Signal handling is opt-in because dispositions belong to the whole process: a daemon wants
    /// it, a program serving a mount on the side (or a test process) must keep its own, and its
    /// children would inherit the ignored signals.
    @discardableResult
    public func serve(unmountOnSignals: Bool = false, onReady: () -> Void = {}) -> Int32 {
        guard let current = session.withLock({ $0.handle?.pointer }) else { return -1 }
        let signals = unmountOnSignals ? SignalUnmount(self) : nil
        defer { signals?.restore() }
        onReady()
        let workers = RequestWorkers(
            session: SessionHandle(pointer: current), maxWorkers: options.maxThreads, logger: logger
        ) { [self] in unmount() }
        let status = workers.run()
        session.withLock { state in
            guard let handle = state.handle else { return }
            // No worker reads the fd any more. Usually the kernel has closed the connection and
            // libfuse only releases the fd; if the workers ended on errors with the mount still
            // up, it unmounts, which must then hit our mount and not a later one on that path.
            if Self.connectionClosed(handle) || (!state.detached && isStillMounted) {
                fuse_session_unmount(handle.pointer)
            }
            fuse_session_destroy(handle.pointer)
            state.handle = nil
        }
        return status
    }

    /// Detaches the mount; the loop ends once the kernel closes the connection (at once, or when
    /// the last file open on the mount is closed).
    ///
    /// Not `fuse_session_unmount` while the loop runs: that closes the session's fd under the
    /// workers, whose next read fails with EBADF and whose replies are lost. Detaching leaves
    /// the fd alone; the workers' reads end with ENODEV, the quiet end of a session.
    public func unmount() {
        session.withLock { state in
            // Under the lock, and only while our mount is the one at the path: once detached it
            // may linger (files still open) while something else is mounted there.
            guard state.handle != nil, !state.detached, isStillMounted else { return }
            state.detached = true
            Self.detach(mountpoint, logger: logger)
        }
    }

    /// Whether the mount at `mountpoint` is still the one this session made.
    private var isStillMounted: Bool {
        guard let device else { return true }
        return MountpointCheck.device(mountedAt: mountpoint) == device
    }

    /// POLLERR on the session's fd: the kernel has ended the connection.
    private static func connectionClosed(_ handle: SessionHandle) -> Bool {
        var entry = pollfd(fd: fuse_session_fd(handle.pointer), events: 0, revents: 0)
        return poll(&entry, 1, 0) == 1 && entry.revents & Int16(POLLERR) != 0
    }

    private static func detach(_ mountpoint: String, logger: Logger) {
        if geteuid() == 0 {
            // EINVAL: no longer mounted, and the loop has ended or is ending.
            if umount2(mountpoint, Int32(MNT_DETACH)) != 0 && errno != EINVAL {
                logger.warning("unmount \(mountpoint): \(String(cString: strerror(errno)))")
            }
            return
        }
        // A user's mount is unmounted by the setuid helper, as libfuse itself does.
        let helper = Process()
        helper.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        helper.arguments = ["fusermount3", "-u", "-z", "--", mountpoint]
        helper.standardInput = FileHandle.nullDevice
        helper.standardOutput = FileHandle.nullDevice
        helper.standardError = FileHandle.nullDevice
        do {
            try helper.run()
            helper.waitUntilExit()
            if helper.terminationStatus != 0 {
                logger.warning("unmount \(mountpoint): fusermount3 -u -z exited \(helper.terminationStatus)")
            }
        } catch {
            logger.warning("unmount \(mountpoint): cannot run fusermount3: \(error)")
        }
    }
}

/// The session, and whether this process has detached its mount.
private struct SessionState {
    var handle: SessionHandle?
    var detached = false
}

/// SIGINT, SIGTERM and SIGHUP unmount while a daemon serves; SIGPIPE is ignored (a closed status
/// client must not kill it). `restore()` puts back what the process had before.
private final class SignalUnmount {
    private static let numbers = [SIGINT, SIGTERM, SIGHUP, SIGPIPE]
    private var previous: [sigaction] = []
    private var sources: [any DispatchSourceSignal] = []

    init(_ mount: FuseMount) {
        let queue = DispatchQueue(label: "sqbackup.mount.signals")
        for number in Self.numbers {
            var ignore = sigaction()
            ignore.__sigaction_handler.sa_handler = SIG_IGN
            var old = sigaction()
            sigaction(number, &ignore, &old)
            previous.append(old)
            guard number != SIGPIPE else { continue }
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [mount] in
                mount.logger.info("signal \(number): unmounting \(mount.mountpoint)")
                mount.unmount()
            }
            source.resume()
            sources.append(source)
        }
    }

    func restore() {
        for source in sources { source.cancel() }
        sources = []
        for (number, old) in zip(Self.numbers, previous) {
            var action = old
            sigaction(number, &action, nil)
        }
        previous = []
    }
}

extension String {
    fileprivate func replacingCommas() -> String {
        String(map { $0 == "," ? "_" : $0 })
    }
}

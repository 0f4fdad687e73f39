import CFuse3
import CShims
import Dispatch
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// libfuse's log lines, kept so that a failed mount can say why.
private let fuseMessages = Mutex<[String]>([])

/// One kernel mount of a `SquashFilesystem`: session, mount, multithreaded loop, unmount.
public final class FuseMount: Sendable {
    public let mountpoint: String
    private let filesystem: SquashFilesystem
    private let options: MountOptions
    private let session: Mutex<SessionHandle?>
    private let logger: Logger

    /// Checks the mountpoint, creates the FUSE session and mounts it; requests are served by `serve()`.
    public init(filesystem: SquashFilesystem, mountpoint: String, options: MountOptions = MountOptions()) throws {
        self.filesystem = filesystem
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
        let userdata = Unmanaged.passUnretained(filesystem)
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
        session = Mutex(SessionHandle(pointer: created))
        if !KernelReadahead.raise(mountpoint: mountpoint, kilobytes: options.kernelReadaheadKB) {
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

    /// Serves requests until the filesystem is unmounted (by `sqbackup unmount`, umount or a
    /// SIGINT/SIGTERM/SIGHUP, which unmount it), then releases the session. Returns the loop's status.
    @discardableResult
    public func serve(onReady: () -> Void = {}) -> Int32 {
        guard let current = session.withLock({ $0?.pointer }) else { return -1 }
        let signalQueue = DispatchQueue(label: "sqbackup.mount.signals")
        var sources = [any DispatchSourceSignal]()
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: signalQueue)
            source.setEventHandler { [self] in
                logger.info("signal \(signalNumber): unmounting \(mountpoint)")
                unmount()
            }
            source.resume()
            sources.append(source)
        }
        signal(SIGPIPE, SIG_IGN)
        onReady()
        let config = fuse_loop_cfg_create()
        fuse_loop_cfg_set_max_threads(config, UInt32(options.maxThreads))
        fuse_loop_cfg_set_clone_fd(config, 0)
        let status = fuse_session_loop_mt(current, config)
        fuse_loop_cfg_destroy(config)
        for source in sources { source.cancel() }
        unmount()
        session.withLock { session in
            if let session { fuse_session_destroy(session.pointer) }
            session = nil
        }
        return status
    }

    /// Detaches the mount; the loop ends once the kernel closes the connection.
    public func unmount() {
        session.withLock { session in
            if let session { fuse_session_unmount(session.pointer) }
        }
    }
}

/// A libfuse session pointer; libfuse serialises what we call on it from other threads.
private struct SessionHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

extension String {
    fileprivate func replacingCommas() -> String {
        String(map { $0 == "," ? "_" : $0 })
    }
}

import ArgumentParser
import Foundation
import Logging
import SQBackup

#if canImport(Glibc)
    import Glibc
#endif

/// `sqbackup mount IMAGE MOUNTPOINT`: a read-only FUSE mount, in the background by default.
struct MountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mount",
        abstract: "Mount a backup image read-only without extracting it.",
        discussion: """
            Runs in the background and returns once the mount is ready (or exits non-zero with
            the reason). SIGINT or SIGTERM to the daemon, or `sqbackup unmount MOUNTPOINT`, unmount it.
            `sqbackup mount --all MOUNTPOINT` (or `sqbackup mount all MOUNTPOINT`) mounts every backup of the store.
            """)

    @Argument(
        help: "A backup id, an http(s) URL of an image (plain or presigned), a local image file, or 'all'.")
    var image: String

    @Argument(help: "An existing, empty directory to mount on.")
    var mountpoint: String?

    @OptionGroup(title: "Every backup (--all)") var browser: BrowserFlags

    @OptionGroup var storeFlags: StoreFlags

    @Flag(name: [.short, .long], help: "Stay in the foreground instead of daemonizing.")
    var foreground = false

    @Option(name: .customShort("o"), help: "Mount options, comma-separated (allow_other, nonempty, …).")
    var options: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A mount(8)-style option list, as mount.fuse.sqbackup passes it from `mount -t fuse.sqbackup` "
                + "and fstab: store=, credentials=FILE, cache_dir=, cache_size=, memory_cache=, prefetch=all, "
                + "ca_bundle=, no_verify, allow_other; for the source 'all' also refresh=, max_open=, sandbox=, "
                + "meta=KEY=VALUE; plus generic options such as ro, nofail, _netdev, x-systemd.*.",
            valueName: "list"))
    var mountOptions: String?

    @Option(
        name: .long,
        help: "Memory for decompressed blocks (e.g. 256M); half of it bounds the readahead of the files read at once.")
    var memoryCache = "256M"

    @Option(
        name: .long, help: "Persistent block cache directory (default: $XDG_CACHE_HOME/sqbackup or ~/.cache/sqbackup).")
    var cacheDir: String?

    @Option(name: .long, help: "Disk space the persistent block cache may use, shared by all mounts (e.g. 4G).")
    var cacheSize = "4G"

    @Flag(
        inversion: .prefixedNo, exclusivity: .exclusive,
        help: "Keep fetched blocks on disk across mounts (default: on for backups and URLs, off for local files).")
    var diskCache: Bool?

    @Option(
        name: .long, help: "all: copy the whole image into the disk cache in the background; none: only what is read.")
    var prefetch: PrefetchMode = .none

    @Option(name: .long, help: "FUSE worker threads (requests waiting on storage at once).")
    var threads = 64

    @Flag(
        name: .customLong("verify"), inversion: .prefixedNo,
        help:
            "Check every fetched block against the digests recorded at create; a damaged block fails its read with EIO."
    )
    var verify = true

    @Option(name: .long, help: "Where the daemon writes its log (default: nowhere once detached).")
    var logFile: String?

    @Flag(name: .long, help: "Log every FUSE request.")
    var debug = false

    @OptionGroup var outputFlags: OutputFlags

    @Option(name: .long, help: .hidden)
    var readyFd: Int32?

    func validate() throws {
        let command = try applyingMountOptions().command
        if command.mountpoint == nil && !command.browser.all {
            throw ValidationError("Missing expected argument '<mountpoint>'")
        }
        guard threads >= 1 && threads <= 1024 else { throw ValidationError("--threads must be between 1 and 1024") }
        _ = try CommandSupport.parseSize(command.cacheSize)
        _ = try CommandSupport.parseSize(command.memoryCache)
    }

    func run() throws {
        let (command, credentialsFile) = try applyingMountOptions()
        if let credentialsFile { try CommandSupport.reporting { try Self.loadCredentials(from: credentialsFile) } }
        try command.mount()
    }

    private func mount() throws {
        Console.start(
            OutputMode(json: outputFlags.json, quiet: outputFlags.quiet, verbose: outputFlags.verbose || debug))
        if browser.mountsAll(source: image) {
            return try runAll(
                mountpoint: CommandSupport.absolute(browser.mountpoint(source: image, mountpoint: mountpoint)))
        }
        guard let mountpoint else { throw ValidationError("Missing expected argument '<mountpoint>'") }
        let reference = ImageReference(handedOff: image, environment: ProcessInfo.processInfo.environment).absolute()
        unsetenv(ImageReference.handOffVariable)
        let mountpointPath = CommandSupport.absolute(mountpoint)
        if !foreground {
            StoreFlags.absolutizeCABundleVariables()
            let handOff = reference.handOff
            for (name, value) in handOff.environment { setenv(name, value, 1) }
            try CommandSupport.reporting {
                let daemon = try DaemonLauncher.launch(
                    arguments: daemonArguments(image: handOff.argument, mountpoint: mountpointPath))
                if outputFlags.json {
                    try Console.document(
                        MountDocument(
                            mountpoint: mountpointPath, image: Self.printable(reference), pid: daemon.pid,
                            foreground: false, verified: verify && daemon.notices.isEmpty, warnings: daemon.notices))
                }
            }
            return
        }
        LargeBufferMemory.keep()
        let settings = try imageSettings()
        let readiness = readyFd.map(ReadinessPipe.init)
        let mounted: ImageMount
        do {
            mounted = try ImageMount(
                image: reference, mountpoint: mountpointPath, settings: settings,
                logger: Logger(label: "sqbackup.mount"))
        } catch {
            // A daemon reports through the pipe; the launcher prints it once.
            guard let readiness else { return try CommandSupport.reporting { () throws -> Void in throw error } }
            readiness.fail((error as? BackupError).map(FlagHints.report) ?? "\(error)")
            throw ExitCode(1)
        }
        let notices = verify ? [CommandSupport.unverifiedNotice(mounted.unverifiedReason)].compactMap { $0 } : []
        mounted.serve(unmountOnSignals: true) {
            if let readiness {
                DaemonLauncher.detachStandardStreams(logFile: logFile)
                readiness.ready(notices: notices)
            } else {
                notices.forEach(CommandSupport.printWarning)
                if outputFlags.json {
                    let document = MountDocument(
                        mountpoint: mountpointPath, image: Self.printable(reference), pid: getpid(), foreground: true,
                        verified: verify && mounted.unverifiedReason == nil, warnings: notices)
                    try? Console.document(document)
                }
            }
        }
    }

    /// What the flags ask of a mount of one image (and of each image of `--all`).
    func imageSettings() throws -> ImageMount.Settings {
        var settings = ImageMount.Settings()
        settings.reader.cacheBytes = try CommandSupport.parseSize(memoryCache)
        settings.diskCacheBytes = try CommandSupport.parseSize(cacheSize)
        settings.diskCacheDirectory = cacheDir.map(CommandSupport.absolute)
        settings.diskCacheEnabled = diskCache
        settings.prefetchAll = prefetch == .all
        settings.mount.maxThreads = threads
        settings.mount.debug = debug
        settings.store = storeFlags.selection
        settings.verify = verify
        let flat = options.flatMap { $0.split(separator: ",").map(String.init) }
        settings.mount.allowNonEmpty = flat.contains("nonempty")
        settings.mount.extraOptions = flat
        return settings
    }

    /// Starts a mount daemon with default settings on behalf of another command (`restore --lazy`)
    /// and returns once it is ready.
    static func launchDaemon(
        reference: ImageReference, mountpoint: String, options: [String], storeFlags: StoreFlags, logFile: String?,
        verbose: Bool, verify: Bool = true
    ) throws {
        let handOff = reference.handOff
        for (name, value) in handOff.environment { setenv(name, value, 1) }
        StoreFlags.absolutizeCABundleVariables()
        var arguments = ["mount", handOff.argument, mountpoint, "--foreground", "--ready-fd", "3"]
        for option in options { arguments += ["-o", option] }
        arguments += storeFlags.arguments
        if let logFile { arguments += ["--log-file", logFile] }
        if verbose { arguments.append("--verbose") }
        if !verify { arguments.append("--no-verify") }
        // The hand-off variables (a presigned URL) are for this daemon only, not for later children.
        defer { for name in handOff.environment.keys { unsetenv(name) } }
        try DaemonLauncher.launch(arguments: arguments)
    }

    func daemonArguments(image: String, mountpoint: String) -> [String] {
        var arguments = ["mount", image, mountpoint, "--foreground", "--ready-fd", "3"]
        for option in options { arguments += ["-o", option] }
        arguments += ["--memory-cache", memoryCache, "--cache-size", cacheSize, "--threads", String(threads)]
        arguments += ["--prefetch", prefetch.rawValue]
        if let cacheDir { arguments += ["--cache-dir", CommandSupport.absolute(cacheDir)] }
        if let diskCache { arguments.append(diskCache ? "--disk-cache" : "--no-disk-cache") }
        if !verify { arguments.append("--no-verify") }
        arguments += storeFlags.arguments
        if let logFile { arguments += ["--log-file", CommandSupport.absolute(logFile)] }
        if debug { arguments.append("--debug") }
        if outputFlags.verbose { arguments.append("--verbose") }
        return arguments
    }

    /// The image as `--json` names it: a backup's id, a path, or a URL without its query.
    static func printable(_ reference: ImageReference) -> String {
        if case .backup(let id) = reference { return id }
        return reference.description
    }
}

/// What `--prefetch` asks the daemon to fetch before it is read.
enum PrefetchMode: String, ExpressibleByArgument, CaseIterable {
    case none, all
}

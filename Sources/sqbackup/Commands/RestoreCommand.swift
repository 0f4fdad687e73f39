import ArgumentParser
import Foundation
import SQBackup

/// `sqbackup restore ID [--target DIR]`: real files again, writing only what differs.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup into a directory (by default its original one, as a rollback).",
        discussion: """
            Without --target the backup's original directory is rolled back: afterwards it equals
            the snapshot, and only what differs is fetched and written (entries the snapshot lacks
            are removed unless --keep-extra). --target must be missing or empty unless --force.

            An entry the snapshot has but that can't be restored (an unsafe name, a device node
            without root, data in a damaged block, a name the filesystem refuses) is left out and
            listed; the rest is restored and the exit status is 3. A left-out file keeps its old
            version in place, and is absent from a new target; no file is ever half-written.
            As root, setuid/setgid bits and file capabilities come back as in the snapshot
            (--no-setuid strips them). Only one restore or create of a directory runs at a time:
            another fails with BACKUP_BUSY, or waits with --wait. SIGINT or SIGTERM stop the
            restore before its next file is renamed into place (OPERATION_INTERRUPTED, exit 130):
            a new target is not created; in place, every file is its old or its restored version
            and nothing was removed yet.

            --lazy returns at once: the backup is mounted lazily (read-only, fetched on demand) and
            kernel overlayfs is put on top at the target, so writes land in a local upper layer
            (under $SQBACKUP_STATE_DIR, default ~/.local/state/sqbackup). `sqbackup unmount TARGET`
            removes the root and its writes. --hydrate then copies every file into the upper layer
            in the background, so file data stops coming from the store (directories and names
            still come from the mount daemon, from memory). The overlay is mounted nosuid and
            nodev unless --preserve-setuid (a live mount other processes may run programs from).
            Needs root.
            """)

    @Argument(help: "A backup id, an http(s) URL of an image, or a local image file (these need --target).")
    var image: String

    @OptionGroup var storeFlags: StoreFlags

    @Option(name: .long, help: "Restore here instead of the backup's original directory.")
    var target: String?

    @Flag(name: .long, help: "Restore over a non-empty --target, overlay-style.")
    var force = false

    @Flag(name: .long, help: "Keep entries that are not in the snapshot.")
    var keepExtra = false

    @Flag(
        name: .long,
        help: "With --lazy: mount without nosuid/nodev (the image is trusted). Real files keep them anyway as root.")
    var preserveSetuid = false

    @Flag(
        name: .customLong("verify"), inversion: .prefixedNo,
        help:
            "Check every block read against the digests recorded at create; a damaged file fails instead of being written."
    )
    var verify = true

    @Flag(name: .long, help: "Strip setuid/setgid bits and file capabilities (kept by default as root).")
    var noSetuid = false

    @Flag(name: .long, help: "If another restore or create of the directory runs, wait for it instead of failing.")
    var wait = false

    @Flag(name: .long, help: "Return at once: a writable overlay on a lazy read-only mount (needs root).")
    var lazy = false

    @Flag(name: .long, help: "With --lazy: copy every file into the overlay's upper layer in the background.")
    var hydrate = false

    @OptionGroup var outputFlags: OutputFlags

    func validate() throws {
        if hydrate && !lazy { throw ValidationError("--hydrate goes with --lazy") }
        if lazy && keepExtra { throw ValidationError("--keep-extra applies to real files, not to --lazy") }
        if preserveSetuid && noSetuid {
            throw ValidationError("--preserve-setuid and --no-setuid contradict each other")
        }
        if lazy && wait { throw ValidationError("--wait applies to real files, not to --lazy") }
    }

    func run() async throws {
        Console.start(outputFlags)
        LargeBufferMemory.keep()
        if lazy { return try await runLazy() }
        let progressLine = ProgressLine.forStandardError()
        var options = BackupClient.RestoreOptions(targetDir: target, force: force, keepExtra: keepExtra)
        if noSetuid { options.preserveSetuid = false }
        options.waitForDirectory = wait
        options.verify = verify
        if let progressLine { options.progress = { progressLine.update($0) } }
        let client = storeFlags.client()
        let reference = ImageReference(image)
        let result = try await CommandSupport.reportingAsync {
            defer { progressLine?.clear() }
            return try await SignalCancellation.run { [options] in try await client.restore(reference, options: options)
            }
        }
        if verify && !result.verified, !reference.isLocalFile {
            Console.warning(
                "unverified: \(reference) has no block digests (stored by an older version or another tool, or "
                    + "not a backup id); its bytes were restored unchecked")
        }
        if outputFlags.json {
            try CommandSupport.reporting { try Console.document(result) }
        } else {
            for warning in result.rejected {
                if warning.kind.leavesEntryOut {
                    Console.problem("not restored: \(FlagHints.line(warning))")
                } else {
                    Console.warning(FlagHints.line(warning))
                }
            }
            Console.info(
                "restored \(result.dir): \(result.filesRestored) written, \(result.filesUnchanged) unchanged, "
                    + "\(result.filesRemoved) removed, \(BackupFormatting.size(result.bytesWritten)) written, "
                    + "\(BackupFormatting.size(UInt64(result.bytesFetched))) fetched in "
                    + String(format: "%.2f s", result.duration))
        }
        if result.isPartial {
            throw Console.fail(
                code: ExitStatus.partialRestore.code,
                message: "partial restore: \(result.notRestored.count) entries of the snapshot were not restored "
                    + (outputFlags.json ? "(notRestored)" : "(listed above)") + "; the rest was",
                status: .partialRestore)
        }
    }

    /// `--lazy`: the facade makes the root; its image is served by a mount daemon of its own, so
    /// that the root outlives this command.
    private func runLazy() async throws {
        try await CommandSupport.reportingAsync {
            let started = ContinuousClock.now
            let reference = ImageReference(image).absolute()
            var options = BackupClient.LazyOptions(targetDir: target, force: force)
            options.preserveSetuid = preserveSetuid
            options.verify = verify
            let (storeFlags, verbose, verify) = (storeFlags, outputFlags.verbose, verify)
            options.mountLower = { root in
                try MountCommand.launchDaemon(
                    reference: reference, mountpoint: root.lower, options: ["allow_other"], storeFlags: storeFlags,
                    logFile: root.mountLog, verbose: verbose, verify: verify)
            }
            let lazy = try await storeFlags.client().restoreLazily(reference, options: options)
            let root = lazy.root
            if hydrate {
                do {
                    try HydrateRootCommand.launch(target: root.target)
                } catch {
                    // Asked for a root that stops needing the store: without hydration it is not that.
                    try? await lazy.remove(detach: true)
                    throw BackupError(
                        .restoreFailed, "the hydration could not start (\(error)); the lazy root was removed again")
                }
            }
            let elapsed = ContinuousClock.now - started
            let seconds = elapsed / .seconds(1)
            if outputFlags.json {
                try Console.document(LazyRestoreReport(root: root, hydrating: hydrate, duration: seconds))
            } else {
                Console.info(
                    "\(root.target) is ready: \(root.image) mounted lazily with a writable overlay "
                        + String(format: "(%.2f s)", seconds) + (hydrate ? "; hydrating in the background" : ""))
                Console.info(
                    "  writes go to \(root.upper); `sqbackup unmount \(root.target)` removes the root and its writes")
            }
        }
    }
}

/// The `--json` output of `restore --lazy`: the spec's `dir` plus where the root's state lives.
struct LazyRestoreReport: Encodable {
    var dir: String
    var lazy = true
    var image: String
    var stateDir: String
    var upperDir: String
    var hydrating: Bool
    var duration: Double

    init(root: LazyRoot, hydrating: Bool, duration: Double) {
        dir = root.target
        image = root.image
        stateDir = root.stateDirectory
        upperDir = root.upper
        self.hydrating = hydrating
        self.duration = duration
    }
}

import ArgumentParser
import Foundation
import SQBackup

/// `sqbackup restore ID [--target DIR]`: real files again, writing only what differs.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup into a directory (by default its original one, as a rollback).",
        discussion: """
            Without --target the backup's original directory is rolled back: afterwards it equals
            the snapshot, and only what differs is fetched and written (entries the snapshot lacks
            are removed unless --keep-extra). --target must be missing or empty unless --force.

            --lazy returns at once: the backup is mounted lazily (read-only, fetched on demand) and
            kernel overlayfs is put on top at the target, so writes land in a local upper layer
            (under $SQBACKUP_STATE_DIR, default ~/.local/state/sqbackup). `sqbackup unmount TARGET`
            removes the root and its writes. --hydrate then copies every file into the upper layer
            in the background, so file data stops coming from the store (directories and names
            still come from the mount daemon, from memory). The overlay is mounted nosuid and
            nodev unless --preserve-setuid. Needs root.
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

    @Flag(name: .long, help: "Keep setuid/setgid bits and file capabilities (root only; the image is trusted).")
    var preserveSetuid = false

    @Flag(
        name: .customLong("verify"), inversion: .prefixedNo,
        help:
            "Check every block read against the digests recorded at create; a damaged file fails instead of being written."
    )
    var verify = true

    @Flag(name: .long, help: "Return at once: a writable overlay on a lazy read-only mount (needs root).")
    var lazy = false

    @Flag(name: .long, help: "With --lazy: copy every file into the overlay's upper layer in the background.")
    var hydrate = false

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    @Flag(name: [.short, .long], help: "More log output.")
    var verbose = false

    func validate() throws {
        if hydrate && !lazy { throw ValidationError("--hydrate goes with --lazy") }
        if lazy && keepExtra { throw ValidationError("--keep-extra applies to real files, not to --lazy") }
    }

    func run() throws {
        CommandSupport.bootstrapLogging(verbose: verbose)
        LargeBufferMemory.keep()
        if lazy { return try runLazy() }
        try CommandSupport.reporting {
            var options = RestoreBackupOptions(targetDir: target.map(CommandSupport.absolute), force: force)
            options.keepExtra = keepExtra
            options.restore.preserveSetuid = preserveSetuid
            options.verify = verify
            let reference = ImageReference(image).absolute()
            let result = try BackupRestore.restore(reference, store: storeFlags.selection, options: options)
            if verify && !result.verified {
                CommandSupport.printWarning(
                    "unverified: \(image) has no block digests (stored by an older version or another tool, or "
                        + "not a backup id); its bytes were restored unchecked")
            }
            if json {
                print(try BackupFormatting.json(result))
            } else {
                for warning in result.rejected { CommandSupport.printError("skipped: \(FlagHints.line(warning))") }
                print(
                    "restored \(result.dir): \(result.filesRestored) written, \(result.filesUnchanged) unchanged, "
                        + "\(result.filesRemoved) removed, \(BackupFormatting.size(result.bytesWritten)) written, "
                        + "\(BackupFormatting.size(UInt64(result.bytesFetched))) fetched in "
                        + String(format: "%.2f s", result.duration))
            }
        }
    }

    private func runLazy() throws {
        try CommandSupport.reporting {
            let started = ContinuousClock.now
            var options = LazyRestoreOptions(targetDir: target.map(CommandSupport.absolute), force: force)
            options.trusted = preserveSetuid
            let reference = ImageReference(image).absolute()
            let root = try LazyRestore.restore(reference, store: storeFlags.selection, options: options) { root in
                try MountCommand.launchDaemon(
                    reference: reference, mountpoint: root.lower, options: ["allow_other"], storeFlags: storeFlags,
                    logFile: root.mountLog, verbose: verbose, verify: verify)
            }
            if hydrate {
                do {
                    try HydrateRootCommand.launch(target: root.target)
                } catch {
                    // Asked for a root that stops needing the store: without hydration it is not that.
                    try? LazyRestore.teardown(root, detach: true)
                    throw BackupError(
                        .restoreFailed, "the hydration could not start (\(error)); the lazy root was removed again")
                }
            }
            let elapsed = ContinuousClock.now - started
            let seconds = elapsed / .seconds(1)
            if json {
                print(try BackupFormatting.json(LazyRestoreReport(root: root, hydrating: hydrate, duration: seconds)))
            } else {
                print(
                    "\(root.target) is ready: \(root.image) mounted lazily with a writable overlay "
                        + String(format: "(%.2f s)", seconds) + (hydrate ? "; hydrating in the background" : ""))
                print("  writes go to \(root.upper); `sqbackup unmount \(root.target)` removes the root and its writes")
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

import ArgumentParser
import Foundation
import SQBackup

#if canImport(Glibc)
    import Glibc
#endif

/// `sqbackup hydrate-root TARGET` (internal): the background process of `restore --lazy --hydrate`.
struct HydrateRootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hydrate-root",
        abstract: "Internal: copy a lazy root's files into its upper layer (started by `restore --lazy --hydrate`).",
        discussion: """
            Not for direct use: it takes no output flags and reports through the root's hydration.json,
            which `sqbackup status [--json]` shows.
            """,
        shouldDisplay: false)

    @Argument(help: "The target of a lazy root.")
    var target: String

    @Option(name: .long, help: .hidden)
    var readyFd: Int32?

    /// Starts the hydration of the root at `target` in a detached process; returns once it has
    /// recorded itself (so an `unmount` right after can stop it).
    static func launch(target: String) throws {
        try DaemonLauncher.launch(arguments: ["hydrate-root", target, "--ready-fd", "3"])
    }

    func run() throws {
        CommandSupport.bootstrapLogging(verbose: false)
        LargeBufferMemory.keep()
        let readiness = readyFd.map(ReadinessPipe.init)
        let path = LazyRoot.canonical(CommandSupport.absolute(target))
        guard
            let root = LazyRoot.find(
                target: path, stateRoot: LazyRoot.stateRoot(environment: ProcessInfo.processInfo.environment))
        else {
            let message = "\(BackupError.Code.notFound.rawValue): no lazy root at \(path)"
            if let readiness { readiness.fail(message) } else { CommandSupport.printError(message) }
            throw ExitCode(1)
        }
        let cancellation = BackupCancellation()
        let signals = SignalCancellation(cancellation)
        defer { signals.restore() }
        try CommandSupport.reporting {
            // The first record carries the pid before the launcher returns.
            try LazyRestore.recordHydrationStart(root)
            if let readiness {
                DaemonLauncher.detachStandardStreams(logFile: root.stateDirectory + "/hydrate.log")
                readiness.ready()
            }
            let progress = try LazyRestore.hydrate(root) { cancellation.isCancelled }
            for failure in progress.failed { CommandSupport.printError("not hydrated: \(failure)") }
        }
    }
}

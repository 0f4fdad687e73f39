import ArgumentParser
import Foundation
import Logging
import SQBackup

#if canImport(Glibc)
    import Glibc
#endif

// `sqbackup mount --all MOUNTPOINT`: every backup of the store, as a daemon like a single mount.
extension MountCommand {
    func runAll(mountpoint: String) throws {
        if !foreground {
            StoreFlags.absolutizeCABundleVariables()
            try CommandSupport.reporting {
                let daemon = try DaemonLauncher.launch(
                    arguments: daemonArguments(image: BrowserFlags.allSource, mountpoint: mountpoint)
                        + browser.arguments)
                if outputFlags.json {
                    try Console.document(
                        MountDocument(
                            mountpoint: mountpoint, image: BrowserFlags.allSource, pid: daemon.pid,
                            foreground: false, verified: verify && daemon.notices.isEmpty, warnings: daemon.notices))
                }
            }
            return
        }
        LargeBufferMemory.keep()
        let readiness = readyFd.map(ReadinessPipe.init)
        let mounted: StoreBrowserMount
        do {
            if prefetch == .all {
                throw BackupError(
                    .invalidConfig, "--prefetch all copies one image into the disk cache; it does not apply to --all")
            }
            mounted = try StoreBrowserMount(
                mountpoint: mountpoint, settings: try browser.settings(image: imageSettings()),
                logger: Logger(label: "sqbackup.mount"))
        } catch {
            // A daemon reports through the pipe and the launcher prints it once, with its exit status.
            guard let readiness else { return try CommandSupport.reporting { () throws -> Void in throw error } }
            readiness.fail((error as? BackupError).map(FlagHints.report) ?? "\(error)")
            throw ExitCode(1)
        }
        mounted.serve(unmountOnSignals: true) {
            if let readiness {
                DaemonLauncher.detachStandardStreams(logFile: logFile)
                readiness.ready()
            } else if outputFlags.json {
                try? Console.document(
                    MountDocument(
                        mountpoint: mountpoint, image: BrowserFlags.allSource, pid: getpid(), foreground: true,
                        verified: verify, warnings: []))
            }
        }
    }
}

import ArgumentParser
import SQBackup

/// `sqbackup unmount MOUNTPOINT`.
struct UnmountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unmount", abstract: "Unmount a mounted backup; its daemon then exits.")

    @Argument(help: "The directory a backup is mounted on.")
    var mountpoint: String

    @Flag(name: .long, help: "Detach now even if files are open (they stay readable until closed).")
    var lazy = false

    func run() throws {
        try CommandSupport.reporting {
            try Unmounter.unmount(CommandSupport.absolute(mountpoint), lazy: lazy)
        }
    }
}

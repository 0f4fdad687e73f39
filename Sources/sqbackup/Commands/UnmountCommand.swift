import ArgumentParser
import Foundation
import SQBackup

/// `sqbackup unmount MOUNTPOINT`.
struct UnmountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unmount", abstract: "Unmount a mounted backup; its daemon then exits.",
        discussion: """
            On the target of a `restore --lazy` root: stops its hydration, unmounts the overlay and
            the mount under it, and deletes the root's upper layer (its writes). With --lazy the
            overlay is detached at once and processes still inside lose the upper layer too.
            """)

    @Argument(help: "The directory a backup is mounted on.")
    var mountpoint: String

    @Flag(name: .long, help: "Detach now even if files are open (they stay readable until closed).")
    var lazy = false

    @OptionGroup var outputFlags: OutputFlags

    func run() throws {
        Console.start(outputFlags)
        try CommandSupport.reporting {
            let path = CommandSupport.absolute(mountpoint)
            let stateRoot = LazyRoot.stateRoot(environment: ProcessInfo.processInfo.environment)
            let isLazyRoot = LazyRoot.find(target: LazyRoot.canonical(path), stateRoot: stateRoot) != nil
            try Unmounter.unmount(path, lazy: lazy)
            if outputFlags.json { try Console.document(UnmountDocument(mountpoint: path, lazyRoot: isLazyRoot)) }
        }
    }
}

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

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    @Flag(name: [.short, .long], help: "More log output.")
    var verbose = false

    func run() throws {
        CommandSupport.bootstrapLogging(verbose: verbose)
        try CommandSupport.reporting {
            var options = RestoreBackupOptions(targetDir: target.map(CommandSupport.absolute), force: force)
            options.keepExtra = keepExtra
            options.restore.preserveSetuid = preserveSetuid
            let reference = ImageReference(image).absolute()
            let result = try BackupRestore.restore(reference, store: storeFlags.selection, options: options)
            if json {
                print(try BackupFormatting.json(result))
            } else {
                for line in result.rejected { CommandSupport.printError("skipped: \(line)") }
                print(
                    "restored \(result.dir): \(result.filesRestored) written, \(result.filesUnchanged) unchanged, "
                        + "\(result.filesRemoved) removed, \(BackupFormatting.size(result.bytesWritten)) written, "
                        + "\(BackupFormatting.size(UInt64(result.bytesFetched))) fetched in "
                        + String(format: "%.2f s", result.duration))
            }
        }
    }
}

import ArgumentParser
import SQBackup

/// `sqbackup show ID`: everything meta.json records about one backup.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one backup's metadata.")

    @OptionGroup var storeFlags: StoreFlags

    @Argument(help: "A backup id (a lowercase UUID).")
    var id: String

    @OptionGroup var outputFlags: OutputFlags

    func run() throws {
        Console.start(outputFlags)
        try CommandSupport.reporting {
            let meta = try storeFlags.catalog().show(id)
            if outputFlags.json {
                // The full meta.json record.
                try Console.document(meta)
            } else {
                Console.result(BackupFormatting.details(meta))
            }
        }
    }
}

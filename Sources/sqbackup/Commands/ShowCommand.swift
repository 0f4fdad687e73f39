import ArgumentParser
import SQBackup

/// `sqbackup show ID`: everything meta.json records about one backup.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one backup's metadata.")

    @OptionGroup var storeFlags: StoreFlags

    @Argument(help: "A backup id (a lowercase UUID).")
    var id: String

    @Flag(name: .long, help: "Print the full meta.json record as JSON.")
    var json = false

    func run() throws {
        CommandSupport.bootstrapLogging(verbose: false)
        try CommandSupport.reporting {
            let meta = try storeFlags.catalog().show(id)
            print(json ? try BackupFormatting.json(meta) : BackupFormatting.details(meta))
        }
    }
}

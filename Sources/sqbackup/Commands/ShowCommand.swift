import ArgumentParser
import SQBackup

/// `sqbackup show ID`: everything meta.json records about one backup.
struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one backup's metadata.")

    @OptionGroup var storeFlags: StoreFlags

    @Argument(help: "A backup id (a lowercase UUID).")
    var id: String

    @OptionGroup var outputFlags: OutputFlags

    func run() async throws {
        Console.start(outputFlags)
        try await CommandSupport.reportingAsync {
            let meta = try await storeFlags.client().backupMetadata(id: id)
            if outputFlags.json {
                // The full meta.json record.
                try Console.document(meta)
            } else {
                Console.result(BackupFormatting.details(meta))
            }
        }
    }
}

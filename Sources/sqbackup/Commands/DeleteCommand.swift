import ArgumentParser
import SQBackup

/// `sqbackup delete ID…`.
struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete backups (all ids are checked before any is deleted).")

    @OptionGroup var storeFlags: StoreFlags

    @Argument(help: "Backup ids.")
    var ids: [String]

    func validate() throws {
        guard !ids.isEmpty else { throw ValidationError("name at least one backup id") }
    }

    func run() throws {
        CommandSupport.bootstrapLogging(verbose: false)
        try CommandSupport.reporting {
            try storeFlags.catalog().delete(ids)
            for id in ids { print("deleted \(id)") }
        }
    }
}

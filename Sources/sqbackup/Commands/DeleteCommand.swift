import ArgumentParser
import SQBackup

/// `sqbackup delete ID…`.
struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete backups (all ids are checked before any is deleted).")

    @OptionGroup var storeFlags: StoreFlags

    @OptionGroup var outputFlags: OutputFlags

    @Argument(help: "Backup ids.")
    var ids: [String]

    func validate() throws {
        guard !ids.isEmpty else { throw ValidationError("name at least one backup id") }
    }

    func run() async throws {
        Console.start(outputFlags)
        try await CommandSupport.reportingAsync {
            try await storeFlags.client().deleteBackups(ids)
            if outputFlags.json {
                try Console.document(DeleteDocument(deleted: ids))
            } else {
                for id in ids { Console.info("deleted \(id)") }
            }
        }
    }
}

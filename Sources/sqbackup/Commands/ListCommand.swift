import ArgumentParser
import SQBackup

/// `sqbackup list`: the backups in the store, newest first.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List backups, newest first (expired ones until pruned).")

    @OptionGroup var storeFlags: StoreFlags

    @OptionGroup var outputFlags: OutputFlags

    @Option(name: .long, help: "Only backups created by this sandbox id.")
    var sandbox: String?

    @Option(name: .long, help: "Only backups whose metadata has KEY=VALUE (repeatable; all must match).")
    var meta: [String] = []

    func validate() throws { _ = try CommandSupport.parseKeyValues(meta, option: "--meta") }

    func run() async throws {
        Console.start(outputFlags)
        let filter = try CommandSupport.parseKeyValues(meta, option: "--meta")
        try await CommandSupport.reportingAsync {
            let listing = try await storeFlags.client().backupList(sandboxId: sandbox, metadata: filter)
            for problem in listing.problems {
                Console.warning(problem.message, code: problem.code.rawValue)
            }
            if outputFlags.json {
                try Console.document(listing.backups.map(\.directoryBackup))
            } else if outputFlags.quiet {
                // Ids only, one a line: what a script reading text wants.
                for backup in listing.backups { Console.result(backup.id) }
            } else if !listing.backups.isEmpty {
                Console.result(BackupFormatting.table(listing.backups))
            }
        }
    }
}

import ArgumentParser
import SQBackup

/// `sqbackup list`: the backups in the store, newest first.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List backups, newest first (expired ones until pruned).")

    @OptionGroup var storeFlags: StoreFlags

    @Option(name: .long, help: "Only backups created by this sandbox id.")
    var sandbox: String?

    @Option(name: .long, help: "Only backups whose metadata has KEY=VALUE (repeatable; all must match).")
    var meta: [String] = []

    @Flag(name: .long, help: "Print a JSON array of DirectoryBackup objects.")
    var json = false

    func validate() throws { _ = try CommandSupport.parseKeyValues(meta, option: "--meta") }

    func run() throws {
        CommandSupport.bootstrapLogging(verbose: false)
        let filter = try CommandSupport.parseKeyValues(meta, option: "--meta")
        try CommandSupport.reporting {
            let listing = try storeFlags.catalog().list(sandboxId: sandbox, metadata: filter)
            for problem in listing.problems {
                CommandSupport.printError("warning: \(problem.code.rawValue): \(problem.message)")
            }
            if json {
                print(try BackupFormatting.json(listing.backups.map(\.directoryBackup)))
            } else if !listing.backups.isEmpty {
                print(BackupFormatting.table(listing.backups))
            }
        }
    }
}

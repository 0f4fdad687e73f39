import ArgumentParser
import SQBackup

/// `sqbackup verify ID…`: reads backups back and checks every block against what create recorded.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Read backups back and check every block and the image hash (a test restore that writes nothing).",
        discussion: """
            Prints OK per backup, or each damaged block with its offset, size, kind and the files it \
            holds. Exits 1 when any backup is damaged (BACKUP_DAMAGED) or missing (BACKUP_NOT_FOUND); \
            the others are still checked. Backups without block digests (older ones, the vendor's SDK) \
            are reported as unverified; their whole-image hash is still checked when recorded.
            """)

    @OptionGroup var storeFlags: StoreFlags

    @Argument(help: "Backup ids.")
    var ids: [String]

    @Flag(name: .long, help: "Print a JSON array with one report per backup.")
    var json = false

    @Option(name: .long, help: "Ranged reads in flight at once.")
    var parallel = 8

    func validate() throws {
        guard !ids.isEmpty else { throw ValidationError("name at least one backup id") }
        guard (1...64).contains(parallel) else { throw ValidationError("--parallel must be between 1 and 64") }
    }

    func run() throws {
        CommandSupport.bootstrapLogging(verbose: false)
        var verifier = BackupVerifier(catalog: try CommandSupport.reporting { try storeFlags.catalog() })
        verifier.parallelReads = parallel
        let progressLine = ProgressLine.forStandardError()
        var reports: [VerifyReport] = []
        var failed = false
        for id in ids {
            do {
                let report = try verifier.verify(id: id) { progressLine?.update($0) }
                progressLine?.clear()
                reports.append(report)
                if !json { print(VerifyFormatting.text(report)) }
                if let error = report.damageError {
                    failed = true
                    CommandSupport.printError(FlagHints.report(error))
                }
            } catch let error as BackupError {
                progressLine?.clear()
                failed = true
                CommandSupport.printError(FlagHints.report(error))
            }
        }
        if json { print(try CommandSupport.reporting { try BackupFormatting.json(reports) }) }
        if failed { throw ExitCode(1) }
    }
}

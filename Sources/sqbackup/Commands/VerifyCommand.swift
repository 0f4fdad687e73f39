import ArgumentParser
import SQBackup

/// `sqbackup verify ID…`: reads backups back and checks every block against what create recorded.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Read backups back and check every block and the image hash (a test restore that writes nothing).",
        discussion: """
            Prints OK per backup, or each damaged block with its offset, size, kind and the files it \
            holds. Exits 6 when a backup is damaged (BACKUP_DAMAGED), 4 when one is missing \
            (BACKUP_NOT_FOUND), 1 when the failures differ; the others are still checked. SIGINT or SIGTERM \
            stop it between ranged reads (OPERATION_INTERRUPTED, exit status 130). Backups \
            without block digests (older ones, the vendor's SDK) are reported as unverified; their \
            whole-image hash is still checked when recorded. With --quiet only damage is printed.
            """)

    @OptionGroup var storeFlags: StoreFlags

    @OptionGroup var outputFlags: OutputFlags

    @Argument(help: "Backup ids.")
    var ids: [String]

    @Option(name: .long, help: "Ranged reads in flight at once.")
    var parallel = 8

    func validate() throws {
        guard !ids.isEmpty else { throw ValidationError("name at least one backup id") }
        guard (1...64).contains(parallel) else { throw ValidationError("--parallel must be between 1 and 64") }
    }

    func run() async throws {
        Console.start(outputFlags)
        let client = storeFlags.client()
        // A wrong store setting is reported once, not once per id.
        _ = try CommandSupport.reporting { try client.catalog() }
        let (ids, parallel, json) = (ids, parallel, outputFlags.json)
        // One task for all ids: a signal during one stops the rest too.
        let (reports, failures) = try await SignalCancellation.run {
            try await Self.verify(ids, client: client, parallel: parallel, json: json)
        }
        if json { try CommandSupport.reporting { try Console.document(reports) } }
        if !failures.isEmpty { throw ExitStatus.combined(failures).exitCode }
    }

    /// Verifies each backup of `ids`, printing each outcome; an interruption ends them all.
    private static func verify(_ ids: [String], client: BackupClient, parallel: Int, json: Bool) async throws
        -> (reports: [VerifyReport], failures: [ExitStatus])
    {
        let progressLine = ProgressLine.forStandardError()
        var reports: [VerifyReport] = []
        var failures: [ExitStatus] = []
        for id in ids {
            do {
                let report = try await client.verify(id, parallelReads: parallel) { progressLine?.update($0) }
                progressLine?.clear()
                reports.append(report)
                if let error = report.damageError {
                    // The damage is the answer a verify is run for: printed even with --quiet.
                    if !json { Console.result(VerifyFormatting.text(report)) }
                    failures.append(ExitStatus.of(error))
                    _ = Console.fail(error)
                } else {
                    Console.info(VerifyFormatting.text(report))
                }
            } catch let error as BackupError {
                progressLine?.clear()
                if error.code == .interrupted { throw Console.fail(error) }
                failures.append(ExitStatus.of(error))
                _ = Console.fail(error)
            }
        }
        return (reports, failures)
    }
}

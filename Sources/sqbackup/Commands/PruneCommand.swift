import ArgumentParser
import SQBackup

/// `sqbackup prune`: expired backups, abandoned multipart uploads and leftovers of killed creates.
struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete expired backups and abandoned uploads.",
        discussion: """
            Uploads (and objects without a meta.json) younger than --uploads-older-than are left alone:
            they may belong to a create that is still running.
            """)

    @OptionGroup var storeFlags: StoreFlags

    @OptionGroup var outputFlags: OutputFlags

    @Flag(name: .long, help: "Only print what would be removed; delete nothing.")
    var dryRun = false

    @Option(name: .long, help: "Age after which an unfinished upload is abandoned (e.g. 24h, 90m, 2d).")
    var uploadsOlderThan = "24h"

    func validate() throws { _ = try CommandSupport.parseDuration(uploadsOlderThan) }

    func run() async throws {
        Console.start(outputFlags)
        let age = try CommandSupport.parseDuration(uploadsOlderThan)
        try await CommandSupport.reportingAsync {
            let report = try await storeFlags.client().prune(dryRun: dryRun, uploadsOlderThan: .seconds(age))
            if outputFlags.json { return try Console.document(PruneDocument(report)) }
            // A dry run's list is the output asked for; what a real prune did is a summary.
            let dryRun = dryRun
            let line = { (text: String) in dryRun ? Console.result(text) : Console.info(text) }
            let verb = dryRun ? "would delete" : "deleted"
            for meta in report.expired {
                line("\(verb) expired backup \(meta.id) (expired \(BackupJSON.format(meta.expiresAt)))")
            }
            for upload in report.staleUploads { line("\(dryRun ? "would abort" : "aborted") upload \(upload)") }
            for key in report.orphans { line("\(verb) leftover \(key)") }
            if report.isEmpty { Console.info("nothing to prune") }
        }
    }
}

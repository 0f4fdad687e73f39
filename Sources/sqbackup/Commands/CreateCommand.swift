import ArgumentParser
import Foundation
import SQBackup

#if canImport(Glibc)
    import Glibc
#endif

/// `sqbackup create DIR`: a squashfs image of DIR, built and uploaded in one pass, then meta.json.
struct CreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Back up a directory: build its squashfs image straight into the store.",
        discussion: """
            Prints the new backup's id and a summary (only the id with --quiet; the DirectoryBackup
            as JSON with --json).
            SIGINT or SIGTERM stop the create and remove what was uploaded (OPERATION_INTERRUPTED,
            exit status 130). A restore into DIR and a create of it never run at once: the second
            fails with BACKUP_BUSY, or waits with --wait.
            """)

    @OptionGroup var storeFlags: StoreFlags

    @OptionGroup var outputFlags: OutputFlags

    @Argument(help: "The directory to back up.")
    var dir: String

    @Option(name: .long, help: "A description stored with the backup.")
    var description: String?

    @Option(name: .long, help: "Custom metadata KEY=VALUE (repeatable).")
    var meta: [String] = []

    @Option(name: .long, help: "The sandbox id recorded (default: $SANDBOX_ID, else the host name).")
    var sandboxId: String?

    @Option(name: .long, help: "How long the backup lives (e.g. 36h, 7d; default 7d).")
    var ttl = "7d"

    @Option(name: .long, help: "Leave out paths matching GLOB, relative to DIR; ** crosses directories (repeatable).")
    var exclude: [String] = []

    @Flag(name: .long, help: "Also leave out what git ignores in DIR (a git work tree).")
    var gitignore = false

    @Option(name: .long, help: "zstd (default), lz4, gzip or xz.")
    var compressor = "zstd"

    @Option(name: .long, help: "Compression level (default: the compressor's fast level).")
    var level: Int?

    @Option(name: .long, help: "Data block size, a power of two from 4K to 1M.")
    var blockSize = "128K"

    @Option(name: .long, help: "Compression threads (default: all cores).")
    var threads: Int?

    @Flag(name: .long, help: "Warn about unreadable files and leave them out instead of failing.")
    var skipUnreadable = false

    @Flag(
        inversion: .prefixedNo,
        help: "Record a digest of every stored block, so that reads of the backup can be verified.")
    var blockDigests = true

    @Flag(name: .long, help: "If a restore into DIR (or another create of it) runs, wait for it instead of failing.")
    var wait = false

    @Option(name: .long, help: "Only build the image into this local file (no store, no backup).")
    var output: String?

    @Option(name: .long, help: .hidden)
    var partSize: String?

    func validate() throws {
        _ = try CommandSupport.parseKeyValues(meta, option: "--meta")
        let seconds = try CommandSupport.parseDuration(ttl)
        guard seconds >= 1 else { throw ValidationError("--ttl must be at least one second") }
        _ = try CommandSupport.parseSize(blockSize)
        if let partSize { _ = try CommandSupport.parseSize(partSize) }
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be between 1 and 1024") }
    }

    func run() async throws {
        Console.start(outputFlags)
        var options = BackupClient.CreateOptions(
            dir: dir, description: description, metadata: try CommandSupport.parseKeyValues(meta, option: "--meta"),
            sandboxId: sandboxId, ttl: .seconds(Int(try CommandSupport.parseDuration(ttl).rounded())),
            excludes: exclude, useGitignore: gitignore)
        options.compressionLevel = level
        options.blockSize = try CommandSupport.parseSize(blockSize)
        options.threads = threads
        options.skipUnreadable = skipUnreadable
        options.blockDigests = blockDigests
        options.waitForDirectory = wait
        if let partSize { options.minimumPartSize = try CommandSupport.parseSize(partSize) }
        let progressLine = ProgressLine.forStandardError()
        if let progressLine { options.progress = { progress in progressLine.update(progress) } }
        options.onWarning = { warning in
            progressLine?.clear()
            Console.warning(FlagHints.line(warning))
        }
        let client = storeFlags.client()
        let output = output.map(CommandSupport.absolute)

        try await CommandSupport.reportingAsync {
            options.compressor = try Self.compressor(named: compressor)
            let report: CreateReport
            do {
                let options = options
                report = try await SignalCancellation.run {
                    if let output { return try await client.buildImage(options, output: output) }
                    return try await client.createBackupReport(options)
                }
            } catch {
                progressLine?.clear()
                throw error
            }
            progressLine?.clear()
            Console.logger.debug(
                "created",
                metadata: [
                    "files": "\(report.files)", "source bytes": "\(report.sourceBytes)",
                    "image bytes": "\(report.imageSize)", "seconds": "\(String(format: "%.3f", report.seconds))",
                ])
            if outputFlags.json {
                if let backup = report.backup {
                    try Console.document(backup.directoryBackup)
                } else {
                    try Console.document(["path": report.imagePath ?? "", "sha256": report.sha256 ?? ""])
                }
            } else if outputFlags.quiet {
                Console.result(report.backup?.id ?? report.imagePath ?? "")
            } else {
                Console.result(Self.summary(report))
            }
        }
    }

    /// `--compressor`, in any case; an unknown name is a configuration error like the other bad settings.
    static func compressor(named name: String) throws -> BackupCompressor {
        guard let compressor = BackupCompressor(rawValue: name.lowercased()) else {
            let known = BackupCompressor.allCases.map(\.rawValue)
            throw BackupError(
                .invalidConfig,
                "unknown compressor \"\(name)\": use \(known.dropLast().joined(separator: ", ")) or \(known.last ?? "")"
            )
        }
        return compressor
    }

    static func summary(_ report: CreateReport) -> String {
        let size =
            "\(BackupFormatting.size(report.imageSize)) (\(String(format: "%.1f", report.ratio * 100))% of "
            + "\(BackupFormatting.size(report.sourceBytes)))"
        let timing = String(format: "%.1f s", report.seconds)
        if let backup = report.backup {
            return """
                backup \(backup.id)
                  size \(size), \(report.files) files, \(timing)
                  expires \(BackupJSON.format(backup.expiresAt))
                """
        }
        return """
            image \(report.imagePath ?? "")
              size \(size), \(report.files) files, \(timing)
              sha256 \(report.sha256 ?? "-")
            """
    }
}

import ArgumentParser
import Foundation

/// The `sqbackup` command line: directory snapshots as squashfs images, mounted lazily.
@main
struct SQBackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sqbackup",
        abstract: "Directory snapshots as squashfs images in R2, S3 or a local store, mounted lazily with FUSE.",
        discussion: """
            Every command takes --json (one JSON document on stdout; errors and warnings as JSON \
            lines on stderr, {"error":{"code":…,"message":…,"exitStatus":…}}), --quiet (only errors \
            and the output asked for) and --verbose (debug logging on stderr).
            """ + "\n\n" + ExitStatus.helpText,
        version: "0.1.0",
        subcommands: [
            CreateCommand.self, ListCommand.self, ShowCommand.self, DeleteCommand.self, PruneCommand.self,
            MountCommand.self, UnmountCommand.self, StatusCommand.self, RestoreCommand.self,
            HydrateRootCommand.self, VerifyCommand.self, ExitCodesCommand.self,
        ])

    /// The parser's own `main`, except that with --json a usage error is printed as a JSON error
    /// too, so a script reading stderr as JSON lines never meets the usage text. Commands built on
    /// the async facade are `AsyncParsableCommand`s; the mount daemon and the others stay synchronous.
    static func main() async {
        let command: any ParsableCommand
        do {
            command = try await asyncParseAsRoot()
        } catch {
            let status = exitCode(for: error)
            if CommandLine.arguments.dropFirst().contains("--json"), status.rawValue == ExitStatus.usage.value {
                Console.start(OutputMode(json: true))
                exit(withError: Console.fail(code: ExitStatus.usage.code, message: message(for: error), status: .usage))
            }
            exit(withError: error)
        }
        do {
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                var runnable = command
                try runnable.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

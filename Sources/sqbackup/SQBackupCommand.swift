import ArgumentParser

/// The `sqbackup` command line: directory snapshots as squashfs images, mounted lazily.
@main
struct SQBackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sqbackup",
        abstract: "Directory snapshots as squashfs images in R2, S3 or a local store, mounted lazily with FUSE.",
        discussion: ExitStatusText.discussion,
        version: "0.1.0",
        subcommands: [
            CreateCommand.self, ListCommand.self, ShowCommand.self, DeleteCommand.self, PruneCommand.self,
            MountCommand.self, UnmountCommand.self, StatusCommand.self, RestoreCommand.self,
            HydrateRootCommand.self, VerifyCommand.self,
        ])
}

/// The result of listing a catalog: the readable backups, newest first, and the ones that could not be read.
public struct BackupList: Sendable {
    public var backups: [BackupMetadata]
    /// Backups whose meta.json is broken, each error naming its backup; listing goes on without them.
    public var problems: [BackupError]

    public init(backups: [BackupMetadata], problems: [BackupError]) {
        self.backups = backups
        self.problems = problems
    }
}

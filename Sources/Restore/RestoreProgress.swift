/// Running totals of a restore, sampled a few times a second for a progress line.
public struct RestoreProgress: Sendable {
    /// Files whose data was copied (or left out after a failure) and files still to copy.
    /// Both are 0 while `planning`: the walk has not yet found every file that differs.
    public var filesDone: Int
    public var filesTotal: Int
    /// File data written so far, and the sizes of the files to copy (holes included).
    public var bytesWritten: UInt64
    public var bytesTotal: UInt64
    /// Seconds since the restore began.
    public var elapsed: Double
    /// True while the snapshot is walked and compared with the target (no totals yet).
    public var planning: Bool
    /// True for the last report, once every file is in place.
    public var finished: Bool

    public init(
        filesDone: Int, filesTotal: Int, bytesWritten: UInt64, bytesTotal: UInt64, elapsed: Double, planning: Bool,
        finished: Bool
    ) {
        self.filesDone = filesDone
        self.filesTotal = filesTotal
        self.bytesWritten = bytesWritten
        self.bytesTotal = bytesTotal
        self.elapsed = elapsed
        self.planning = planning
        self.finished = finished
    }
}

/// What a restore did: the spec's `{dir, filesRestored}` plus counts, bytes and time.
public struct RestoreResult: Sendable, Encodable, Equatable {
    /// The directory that now holds the snapshot.
    public var dir: String
    /// Entries written: files, symlinks, links, special files and created directories.
    public var filesRestored: Int
    /// Non-directory entries that already matched and were left alone (their data never read).
    public var filesUnchanged: Int
    /// Entries removed because the snapshot does not have them.
    public var filesRemoved: Int
    /// File data written (holes excluded).
    public var bytesWritten: UInt64
    /// Compressed file data fetched from the image source (the reader's statistics; the index read at open is not counted).
    public var bytesFetched: Int
    /// Wall time in seconds.
    public var duration: Double
    /// Entries of the image that were skipped or changed for safety.
    public var rejected: [RestoreWarning]
    /// Whether every block read was checked against the digests recorded at create.
    public var verified = false

    public init(
        dir: String, filesRestored: Int, filesUnchanged: Int, filesRemoved: Int, bytesWritten: UInt64,
        bytesFetched: Int, duration: Double, rejected: [RestoreWarning]
    ) {
        self.dir = dir
        self.filesRestored = filesRestored
        self.filesUnchanged = filesUnchanged
        self.filesRemoved = filesRemoved
        self.bytesWritten = bytesWritten
        self.bytesFetched = bytesFetched
        self.duration = duration
        self.rejected = rejected
    }
}

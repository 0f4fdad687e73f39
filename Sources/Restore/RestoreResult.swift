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
    /// Entries of the image that were skipped or changed for safety, or could not be restored.
    public var rejected: [RestoreWarning]
    /// Whether every block read was checked against the digests recorded at create.
    public var verified = false

    /// Entries of the snapshot the target does not have as the snapshot has them (left out, or
    /// kept at their old version in place); when any, the restore was partial.
    public var notRestored: [RestoreWarning] { rejected.filter(\.kind.leavesEntryOut) }

    /// Some entries of the snapshot were not restored; the rest was.
    public var isPartial: Bool { rejected.contains { $0.kind.leavesEntryOut } }

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

    private enum CodingKeys: String, CodingKey {
        case dir, filesRestored, filesUnchanged, filesRemoved, bytesWritten, bytesFetched, duration, rejected
        case partial, notRestored, verified
    }

    /// An entry not restored as the JSON output shows it: path, a stable reason word, the line.
    private struct NotRestoredEntry: Encodable {
        var path: String
        var reason: String
        var message: String
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(dir, forKey: .dir)
        try container.encode(filesRestored, forKey: .filesRestored)
        try container.encode(filesUnchanged, forKey: .filesUnchanged)
        try container.encode(filesRemoved, forKey: .filesRemoved)
        try container.encode(bytesWritten, forKey: .bytesWritten)
        try container.encode(bytesFetched, forKey: .bytesFetched)
        try container.encode(duration, forKey: .duration)
        try container.encode(rejected, forKey: .rejected)
        try container.encode(isPartial, forKey: .partial)
        try container.encode(
            notRestored.map { NotRestoredEntry(path: $0.path, reason: $0.kind.code, message: $0.description) },
            forKey: .notRestored)
        try container.encode(verified, forKey: .verified)
    }
}

/// Running totals of a build, for progress bars.
public struct BuildProgress: Sendable, Equatable {
    /// Where the build is.
    public enum Phase: String, Sendable {
        case scanning, writingData, writingMetadata, finished
    }

    public var phase: Phase
    /// Regular files (distinct inodes) found by the scan, and how many have been stored.
    public var filesTotal: Int
    public var filesDone: Int
    /// Bytes of regular file data found by the scan, and bytes read so far (more when dedup candidates
    /// are read twice).
    public var bytesTotal: UInt64
    public var bytesRead: UInt64
    /// Image bytes handed to the sink so far.
    public var imageBytesWritten: UInt64
}

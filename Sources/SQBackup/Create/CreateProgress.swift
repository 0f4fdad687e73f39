/// Running totals of a create, for a progress line.
public struct CreateProgress: Sendable {
    /// Regular files stored so far, of `filesTotal` found by the scan.
    public var filesDone: Int
    /// Regular files the scan found.
    public var filesTotal: Int
    /// File bytes read so far, of `bytesTotal`.
    public var bytesRead: UInt64
    /// File bytes the scan found.
    public var bytesTotal: UInt64
    /// Image bytes produced so far, and how many of them the store has acknowledged.
    public var imageBytes: UInt64
    public var bytesUploaded: UInt64
    /// Seconds since the create began.
    public var elapsed: Double
    /// True once the image is complete and only the upload's tail, verification and meta.json remain.
    public var finishing: Bool
}

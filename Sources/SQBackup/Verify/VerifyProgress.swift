/// How far a verify of one backup has come, reported as ranges are checked.
public struct VerifyProgress: Sendable {
    /// The backup being verified.
    public var id: String
    /// Image bytes read and checked so far, of `bytesTotal`.
    public var bytesChecked: UInt64
    /// The image's size.
    public var bytesTotal: UInt64
    /// Seconds since this backup's reads started.
    public var elapsed: Double

    /// A progress report.
    public init(id: String, bytesChecked: UInt64, bytesTotal: UInt64, elapsed: Double) {
        self.id = id
        self.bytesChecked = bytesChecked
        self.bytesTotal = bytesTotal
        self.elapsed = elapsed
    }
}

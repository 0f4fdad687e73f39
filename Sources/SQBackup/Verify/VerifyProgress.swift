/// How far a verify of one backup has come, reported as ranges are checked.
public struct VerifyProgress: Sendable {
    public var id: String
    public var bytesChecked: UInt64
    public var bytesTotal: UInt64
    /// Seconds since this backup's reads started.
    public var elapsed: Double

    public init(id: String, bytesChecked: UInt64, bytesTotal: UInt64, elapsed: Double) {
        self.id = id
        self.bytesChecked = bytesChecked
        self.bytesTotal = bytesTotal
        self.elapsed = elapsed
    }
}

import ImageDigests
import Storage

/// An image found from what a user named, with what it can be checked against.
public struct LocatedImage: Sendable {
    public let source: any RangeSource
    /// The digests to check reads against; nil when reads are unverified.
    public let blockDigests: BlockDigestTable?
    /// Why reads are unverified, for the notice `mount` and `restore` print; nil when verified,
    /// and for local image files (the user's own copy).
    public let unverifiedReason: String?
    /// Counts the requests sent for this image (what `sqbackup status` reports); nil when not counted.
    public let requests: RequestMeter?

    public init(
        source: any RangeSource, blockDigests: BlockDigestTable?, unverifiedReason: String?,
        requests: RequestMeter? = nil
    ) {
        self.source = source
        self.blockDigests = blockDigests
        self.unverifiedReason = unverifiedReason
        self.requests = requests
    }
}

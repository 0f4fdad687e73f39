import ImageDigests

/// What a reading thread found in one range.
struct CheckedRange: Sendable {
    var damaged: [BlockDigestTable.Entry]
    /// SHA-256 of the range when it is exactly one part of a multipart image.
    var partDigest: [UInt8]?
}

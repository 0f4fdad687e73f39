/// What a writer knows of the bytes it stored: the exact SHA-256 when it could hash the whole object,
/// else the SHA-256 of each part, hashed as it went up.
public enum UploadDigest: Sendable, Equatable {
    /// SHA-256 of the whole object (32 bytes).
    case sha256([UInt8])
    /// The SHA-256s of the object's consecutive `partSize`-byte parts (the last may be shorter), in
    /// part order.
    case parts(partSize: Int, sha256s: [[UInt8]])
}

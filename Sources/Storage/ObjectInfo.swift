import Foundation

/// What a store knows about one object: its size and the version tag that pins reads to it.
public struct ObjectInfo: Hashable, Sendable {
    public var key: String
    public var size: UInt64
    /// The entity tag without quotes; changes whenever the content may have changed.
    public var etag: String
    public var lastModified: Date?
    /// User metadata (S3 `x-amz-meta-*`), keys lowercased; only filled by `head`.
    public var metadata: [String: String]

    public init(key: String, size: UInt64, etag: String, lastModified: Date? = nil, metadata: [String: String] = [:]) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.metadata = metadata
    }
}

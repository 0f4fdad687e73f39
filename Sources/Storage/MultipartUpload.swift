import Foundation

/// An in-progress multipart upload, as listed for cleanup of abandoned ones.
public struct MultipartUpload: Hashable, Sendable {
    public var key: String
    public var uploadId: String
    public var initiated: Date?

    public init(key: String, uploadId: String, initiated: Date?) {
        self.key = key
        self.uploadId = uploadId
        self.initiated = initiated
    }
}

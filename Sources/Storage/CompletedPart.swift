/// A part of a multipart upload, named by number and the ETag its upload returned.
public struct CompletedPart: Hashable, Sendable {
    public var partNumber: Int
    public var etag: String

    public init(partNumber: Int, etag: String) {
        self.partNumber = partNumber
        self.etag = etag
    }
}

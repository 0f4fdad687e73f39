/// One page of a listing, in lexicographic (UTF-8 byte) order of keys.
public struct ObjectListing: Hashable, Sendable {
    public var objects: [ObjectInfo]
    /// Pass to the next `list` call; `nil` on the last page.
    public var nextContinuationToken: String?

    public init(objects: [ObjectInfo], nextContinuationToken: String?) {
        self.objects = objects
        self.nextContinuationToken = nextContinuationToken
    }
}

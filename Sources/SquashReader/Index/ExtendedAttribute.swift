/// One extended attribute of an entry, with its full name ("user.comment").
public struct ExtendedAttribute: Sendable, Hashable {
    public var name: String
    public var value: [UInt8]
}

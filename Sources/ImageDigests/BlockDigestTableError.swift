/// Why a digest table could not be made or read.
public enum BlockDigestTableError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The bytes are not a digest table of a version this build reads.
    case unsupported(String)
    /// The table is damaged or inconsistent.
    case malformed(String)

    public var description: String {
        switch self {
        case .unsupported(let why): "not a block digest table this version reads: \(why)"
        case .malformed(let why): "damaged block digest table: \(why)"
        }
    }
}

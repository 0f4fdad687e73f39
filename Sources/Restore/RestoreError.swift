#if canImport(Glibc)
    import Glibc
#endif

/// A restore step failed; the message names the operation and the path inside the target.
public struct RestoreError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    /// A failed system call, with errno's text.
    static func system(_ operation: String, _ path: String, _ code: Int32 = errno) -> RestoreError {
        RestoreError("\(operation) \(path): \(String(cString: strerror(code)))")
    }

    public var description: String { message }
}

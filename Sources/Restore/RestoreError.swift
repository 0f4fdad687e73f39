#if canImport(Glibc)
    import Glibc
#endif

/// A restore step failed; the message names the operation and the path inside the target.
public enum RestoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call on `path` failed with `code` (an errno value).
    case systemCall(operation: String, path: String, code: Int32)
    /// Files are open below the mount at `path`, so it cannot be unmounted without detaching it.
    case busy(path: String)
    /// Kernel overlayfs refused to mount on `target`: that needs root (CAP_SYS_ADMIN).
    case overlayNeedsRoot(target: String)
    /// The restore was stopped on request (`why`: "interrupted by SIGINT"); a new target was not
    /// created, an existing one has every entry either old or new, never torn.
    case interrupted(String)
    /// Any other failed step; the message says which and where.
    case failed(String)

    public init(_ message: String) { self = .failed(message) }

    /// A failed system call, with errno's text.
    static func system(_ operation: String, _ path: String, _ code: Int32 = errno) -> RestoreError {
        .systemCall(operation: operation, path: path, code: code)
    }

    public var description: String {
        switch self {
        case .systemCall(let operation, let path, let code):
            return "\(operation) \(path): \(String(cString: strerror(code)))"
        case .busy(let path): return "\(path) is busy (files are open there); close them or detach it"
        case .overlayNeedsRoot(let target):
            return "mount overlay on \(target): kernel overlayfs needs root (CAP_SYS_ADMIN)"
        case .interrupted(let why): return why
        case .failed(let message): return message
        }
    }
}

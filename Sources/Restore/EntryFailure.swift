import SquashReader

#if canImport(Glibc)
    import Glibc
#endif

/// Tells a failure of one entry (a damaged block, a name the filesystem refuses: skip it, restore
/// the rest) from a failure of the restore itself (the target is full or read-only, the store is
/// gone, a stop was asked for: every further entry would fail too, so stop).
enum EntryFailure {
    /// What to report for the entry, or nil when the whole restore must stop with `error`.
    static func warning(for error: any Error, path: String) -> RestoreWarning? {
        switch error {
        case let error as ImageError:
            if case .storage = error { return nil }
            return RestoreWarning(path: path, kind: .unreadable(reason: error.description))
        case let error as ShortRead:
            return RestoreWarning(path: path, kind: .unreadable(reason: error.description))
        case RestoreError.systemCall(let operation, _, let code) where entryErrors.contains(code):
            return RestoreWarning(
                path: path, kind: .notCreated(reason: "\(operation): \(String(cString: strerror(code)))"))
        default:
            return nil
        }
    }

    /// errno values that come from what the image asks of this one entry (a name too long, an
    /// empty symlink target, an xattr or a device this filesystem or user may not have, a file
    /// larger than it holds). ENOSPC, EROFS, EIO, EACCES and the like are the target's and stop.
    private static let entryErrors: Set<Int32> = [
        EINVAL, ENAMETOOLONG, EPERM, EOPNOTSUPP, ENOENT, E2BIG, ERANGE, EILSEQ, EFBIG, EMLINK,
    ]
}

/// The image served fewer bytes of a file than its inode says it has.
struct ShortRead: Error, CustomStringConvertible {
    var got: Int
    var wanted: Int
    var offset: UInt64

    var description: String { "the image gave \(got) bytes at offset \(offset), \(wanted) expected" }
}

/// Why an image could not be built; every message names the path and what to do about it.
public enum BuildError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The directory to back up does not exist.
    case directoryNotFound(path: String)
    /// The root exists but is not a directory.
    case notADirectory(path: String)
    /// A file or directory could not be read (and `skipUnreadable` was off).
    case unreadable(path: String, reason: String)
    /// An entry squashfs cannot represent (name too long, device number too large, ...).
    case unsupportedEntry(path: String, reason: String)
    /// More distinct uids and gids than the squashfs id table holds.
    case tooManyIDs(count: Int, path: String)
    /// A `BuildOptions` value is out of range.
    case invalidOptions(String)
    /// Writing the image failed (the sink's destination).
    case output(path: String, reason: String)
    /// libsquashfs reported an error during `operation`.
    case library(operation: String, code: Int32)
    /// The caller's `shouldCancel` returned true.
    case cancelled

    public var description: String {
        switch self {
        case .directoryNotFound(let path):
            return "directory not found: \(path)"
        case .notADirectory(let path):
            return "not a directory: \(path)"
        case .unreadable(let path, let reason):
            return "cannot read \(path): \(reason) (fix its permissions, exclude it, or skip unreadable files)"
        case .unsupportedEntry(let path, let reason):
            return "cannot store \(path) in a squashfs image: \(reason) (exclude it)"
        case .tooManyIDs(let count, let path):
            return "too many distinct owners: \(count) uids/gids in \(path), squashfs holds at most 65536 "
                + "(exclude some files or normalise their owners)"
        case .invalidOptions(let reason):
            return "invalid build options: \(reason)"
        case .output(let path, let reason):
            return "cannot write the image to \(path): \(reason)"
        case .library(let operation, let code):
            return "libsquashfs failed to \(operation): \(LibraryError.name(code)) (\(code))"
        case .cancelled:
            return "the image build was cancelled"
        }
    }
}

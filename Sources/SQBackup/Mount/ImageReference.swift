import Foundation
import RemoteStorage

/// What a user can name as an image: a local file, an http(s) URL (plain or presigned), or a backup id.
public enum ImageReference: Sendable, Equatable, CustomStringConvertible {
    case file(path: String)
    case url(String)
    case backup(id: String)

    /// Classifies `text`: URLs by scheme; an existing file wins over an id-shaped name; anything
    /// UUID-shaped is a backup id (validated later, so "ABC…" gets a lowercase hint); else a path.
    public init(_ text: String) {
        let lowered = text.lowercased()
        if lowered.hasPrefix("https://") || lowered.hasPrefix("http://") {
            self = .url(text)
        } else if BackupID.looksLikeUUID(text) && !FileManager.default.fileExists(atPath: text) {
            self = .backup(id: text)
        } else {
            self = .file(path: text)
        }
    }

    /// The variable that carries a URL to a child process (the mount daemon): a presigned URL is a
    /// bearer token, and a command line is world-readable in /proc while the environment is not.
    public static let handOffVariable = "SQBACKUP_IMAGE_URL"

    /// How to pass the reference to a child process: its argument, and the environment it needs.
    public var handOff: (argument: String, environment: [String: String]) {
        guard case .url(let url) = self else { return (argument, [:]) }
        return ("env:" + Self.handOffVariable, [Self.handOffVariable: url])
    }

    /// The reference a parent handed off with `handOff`, or `text` classified as usual.
    public init(handedOff text: String, environment: [String: String]) {
        if text == "env:" + Self.handOffVariable, let url = environment[Self.handOffVariable] {
            self = .url(url)
        } else {
            self.init(text)
        }
    }

    /// The reference with a relative file path made absolute (the mount daemon runs from "/").
    public func absolute(from directory: String = FileManager.default.currentDirectoryPath) -> ImageReference {
        guard case .file(let path) = self else { return self }
        return .file(
            path: URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: directory)).standardizedFileURL.path)
    }

    /// The text to pass on (for example to the mount daemon).
    public var argument: String {
        switch self {
        case .file(let path): return path
        case .url(let url): return url
        case .backup(let id): return id
        }
    }

    /// Whether this names a local image file (the user's own copy, not a store's).
    public var isLocalFile: Bool {
        if case .file = self { return true }
        return false
    }

    /// A name safe for messages and logs: a URL loses its query (a presigned signature).
    public var description: String {
        switch self {
        case .file(let path): return path
        case .url(let url): return HTTPRangeSource.redacted(url)
        case .backup(let id): return "backup \(id)"
        }
    }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A backup as the browser places it: by id, by its creation time (UTC) and by its sandbox.
public struct BrowsedBackup: Sendable, Equatable {
    public let id: String
    public let createdAt: Date
    public let sandboxId: String?

    public init(id: String, createdAt: Date, sandboxId: String?) {
        self.id = id
        self.createdAt = createdAt
        self.sandboxId = sandboxId
    }

    /// Its directory under by-date/: `YYYY-MM-DD`.
    public var dayName: String {
        let time = utc
        return String(format: "%04d-%02d-%02d", Int(time.tm_year) + 1900, Int(time.tm_mon) + 1, Int(time.tm_mday))
    }

    /// Its name inside that directory: `HHMMSS-<id>`, so that a day's backups sort by time.
    public var timeName: String {
        let time = utc
        return String(format: "%02d%02d%02d-", Int(time.tm_hour), Int(time.tm_min), Int(time.tm_sec)) + id
    }

    /// Its directory under by-sandbox/, or nil when the sandbox id can't be a file name.
    public var sandboxName: String? {
        guard let sandboxId, !sandboxId.isEmpty, sandboxId != ".", sandboxId != "..", sandboxId.utf8.count <= 255,
            !sandboxId.contains("/"), !sandboxId.contains("\0")
        else { return nil }
        return sandboxId
    }

    private var utc: tm {
        var seconds = time_t(createdAt.timeIntervalSince1970.rounded(.down))
        var result = tm()
        gmtime_r(&seconds, &result)
        return result
    }
}

/// An entry of the image that a restore left out or changed; the rest was restored.
public struct RestoreWarning: Sendable, Equatable, Encodable, CustomStringConvertible {
    /// What was done to the entry.
    public enum Kind: Sendable, Equatable {
        /// The image names the entry unsafely (`..`, a slash, …); it was left out.
        case unsafeNameSkipped
        /// A device node that only root may create (and only when devices are allowed); left out.
        case deviceSkipped(major: UInt32, minor: UInt32)
        /// Privileges the image asked for were not given (the image is untrusted input).
        case privilegesNotRestored(setuid: Bool, capability: Bool)
        /// The entry's data could not be read from the image (a damaged block); left out: a new
        /// target lacks it, an existing one keeps its old version.
        case unreadable(reason: String)
        /// The entry could not be made as the image describes it (a name or symlink target the
        /// filesystem refuses, an xattr it does not take, …); left out like an unreadable one.
        case notCreated(reason: String)

        /// The entry is missing from the target (or kept its old version there): the restore was partial.
        public var leavesEntryOut: Bool {
            if case .privilegesNotRestored = self { return false }
            return true
        }

        /// A stable word for machine-readable output.
        public var code: String {
            switch self {
            case .unsafeNameSkipped: "unsafe-name"
            case .deviceSkipped: "device"
            case .privilegesNotRestored: "privileges-dropped"
            case .unreadable: "unreadable"
            case .notCreated: "not-created"
            }
        }
    }

    /// The entry, relative to the target (for unsafe names: as the image gave it, with the reason).
    public var path: String
    public var kind: Kind

    public init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }

    public var description: String {
        switch kind {
        case .unsafeNameSkipped: return "\(path): unsafe name skipped"
        case .deviceSkipped(let major, let minor): return "\(path): device node \(major):\(minor) skipped"
        case .privilegesNotRestored(let setuid, let capability):
            let dropped = (setuid ? ["setuid/setgid bits"] : []) + (capability ? ["security.capability"] : [])
            return "\(path): \(dropped.joined(separator: " and ")) not restored"
        case .unreadable(let reason): return "\(path): its data could not be read (\(reason))"
        case .notCreated(let reason): return "\(path): could not be created (\(reason))"
        }
    }

    /// One line each in `--json`-style output, as before warnings were typed.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

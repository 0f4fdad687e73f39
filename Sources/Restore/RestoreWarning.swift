/// An entry of the image that a restore skipped or changed for safety; the rest was restored.
public struct RestoreWarning: Sendable, Equatable, Encodable, CustomStringConvertible {
    /// What was done to the entry.
    public enum Kind: Sendable, Equatable {
        /// The image names the entry unsafely (`..`, a slash, …); it was left out.
        case unsafeNameSkipped
        /// A device node that only root may create (and only when devices are allowed); left out.
        case deviceSkipped(major: UInt32, minor: UInt32)
        /// Privileges the image asked for were not given (the image is untrusted input).
        case privilegesNotRestored(setuid: Bool, capability: Bool)
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
        }
    }

    /// One line each in `--json`-style output, as before warnings were typed.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

import ArgumentParser
import SQBackup

/// The flags of `sqbackup mount --all`, the browser of every backup in the store.
struct BrowserFlags: ParsableArguments {
    /// The source word that means `--all`, for mount(8) and fstab, which always pass a source.
    static let allSource = "all"

    @Flag(
        name: .long,
        help: """
            Mount every backup of the store: by-id/ID/, by-date/DAY/TIME-ID, by-sandbox/SANDBOX/ID, latest \
            (the same as the source word 'all').
            """)
    var all = false

    @Option(name: .long, help: "With --all: backup images kept open at once (least recently used closes first).")
    var maxOpen = 16

    @Option(name: .long, help: "With --all: seconds between listings of the store (new, deleted, expired backups).")
    var refresh = 30.0

    @Option(name: .long, help: "With --all: only backups created by this sandbox id.")
    var sandbox: String?

    @Option(name: .long, help: "With --all: only backups whose metadata has KEY=VALUE (repeatable; all must match).")
    var meta: [String] = []

    /// Whether the command mounts every backup: `--all`, or the source word `all`.
    func mountsAll(source: String) -> Bool { all || source == Self.allSource }

    /// The mountpoint of `mount --all DIR` or `mount all DIR`.
    func mountpoint(source: String, mountpoint: String?) throws -> String {
        guard let mountpoint else { return source }
        guard source == Self.allSource else {
            throw ValidationError("--all mounts every backup: give only the mountpoint, not '\(source)' as well")
        }
        return mountpoint
    }

    func validate() throws {
        guard maxOpen >= 1 && maxOpen <= 4096 else { throw ValidationError("--max-open must be between 1 and 4096") }
        guard refresh >= 0 && refresh.isFinite else { throw ValidationError("--refresh must be 0 seconds or more") }
        _ = try CommandSupport.parseKeyValues(meta, option: "--meta")
    }

    /// The browser's settings over a single mount's `image` settings.
    func settings(image: ImageMount.Settings) throws -> StoreBrowserMount.Settings {
        var settings = StoreBrowserMount.Settings()
        settings.image = image
        settings.maxOpen = maxOpen
        settings.refreshSeconds = refresh
        settings.sandboxId = sandbox
        settings.metadata = try CommandSupport.parseKeyValues(meta, option: "--meta")
        return settings
    }

    /// The flags again, for the daemon.
    var arguments: [String] {
        var arguments = ["--max-open", String(maxOpen), "--refresh", String(refresh)]
        if let sandbox { arguments += ["--sandbox", sandbox] }
        for item in meta { arguments += ["--meta", item] }
        return arguments
    }
}

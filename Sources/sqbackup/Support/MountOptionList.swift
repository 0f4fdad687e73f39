/// A mount(8)-style option list such as `ro,store=r2://bucket,cache_dir=/var/cache/sqbackup,allow_other`:
/// what `mount -t fuse.sqbackup … -o …` and an fstab line hand to mount.fuse.sqbackup, which
/// passes it on as `sqbackup mount --mount-options LIST`.
///
/// sqbackup's own options map onto the `mount` flags of the same meaning; the generic options
/// mount(8), systemd and fstab add are accepted and have no effect (a backup is always mounted
/// read-only, so `rw` is refused instead of being silently ignored); anything else is an error
/// naming the option, never its value (a mistyped option could hold a secret).
struct MountOptionList: Equatable {
    var store: String?
    var credentialsFile: String?
    var cacheDirectory: String?
    var cacheSize: String?
    var memoryCache: String?
    var prefetchAll = false
    var caBundle: String?
    var verify = true
    /// The browser's settings, for the source `all` (`mount --all`): `refresh=`, `max_open=`,
    /// `sandbox=` and `meta=KEY=VALUE` (repeatable).
    var refreshSeconds: Double?
    var maxOpen: Int?
    var sandbox: String?
    var metadata: [String] = []
    /// Options for libfuse and the kernel (`allow_other`).
    var fuseOptions: [String] = []

    /// Options mount(8), fstab and systemd may pass that change nothing for a read-only FUSE
    /// mount of an image (nodev/nosuid are the FUSE default for it anyway).
    private static let ignored: Set<String> = [
        "ro", "defaults", "dev", "nodev", "suid", "nosuid", "exec", "noexec", "atime", "noatime", "diratime",
        "nodiratime", "relatime", "norelatime", "strictatime", "lazytime", "auto", "noauto", "user", "nouser",
        "users", "owner", "group", "nofail", "_netdev", "async", "sync", "silent", "loud",
    ]

    init(parsing text: String) throws(MountOptionError) {
        for option in Self.split(text) where !option.isEmpty {
            try adopt(option)
        }
    }

    private mutating func adopt(_ option: String) throws(MountOptionError) {
        let name = option.split(separator: "=", maxSplits: 1).first.map(String.init) ?? option
        let value = option.contains("=") ? Self.unquoted(String(option.dropFirst(name.count + 1))) : nil
        if Self.ignored.contains(name) || name.hasPrefix("x-") || name == "comment" {
            // `comment=` and `x-*` carry notes for systemd and other tools (x-systemd.automount, …).
            if value != nil && !(name.hasPrefix("x-") || name == "comment") { throw .unexpectedValue(name) }
            return
        }
        switch name {
        case "rw": throw .readWrite
        case "allow_other", "no_verify":
            guard value == nil else { throw .unexpectedValue(name) }
            if name == "allow_other" { fuseOptions.append(name) } else { verify = false }
        case "store": store = try Self.required(value, name)
        case "credentials": credentialsFile = try Self.absolutePath(value, name)
        case "cache_dir": cacheDirectory = try Self.absolutePath(value, name)
        case "ca_bundle": caBundle = try Self.absolutePath(value, name)
        case "cache_size": cacheSize = try Self.size(value, name)
        case "memory_cache": memoryCache = try Self.size(value, name)
        case "prefetch":
            let mode = try Self.required(value, name)
            guard let prefetch = PrefetchMode(rawValue: mode) else {
                throw .invalidValue(option: name, expected: "all or none")
            }
            prefetchAll = prefetch == .all
        case "refresh":
            // mount(8) users write durations as systemd does (30s, 5m); a bare number is seconds.
            guard let seconds = try? CommandSupport.parseDuration(try Self.required(value, name)) else {
                throw .invalidValue(option: name, expected: "seconds, or a duration such as 30s or 5m")
            }
            refreshSeconds = seconds
        case "max_open":
            guard let count = Int(try Self.required(value, name)), (1...4096).contains(count) else {
                throw .invalidValue(option: name, expected: "a number of images from 1 to 4096")
            }
            maxOpen = count
        case "sandbox": sandbox = try Self.required(value, name)
        case "meta":
            let pair = try Self.required(value, name)
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw .invalidValue(option: name, expected: "KEY=VALUE (meta=KEY=VALUE)")
            }
            metadata.append(pair)
        default: throw .unknown(name)
        }
    }

    /// The first option given that only a mount of every backup (the source `all`) uses, if any.
    var browserOption: String? {
        if refreshSeconds != nil { return "refresh" }
        if maxOpen != nil { return "max_open" }
        if sandbox != nil { return "sandbox" }
        return metadata.isEmpty ? nil : "meta"
    }

    private static func required(_ value: String?, _ name: String) throws(MountOptionError) -> String {
        guard let value, !value.isEmpty else { throw .missingValue(name) }
        return value
    }

    private static func size(_ value: String?, _ name: String) throws(MountOptionError) -> String {
        let size = try required(value, name)
        guard (try? CommandSupport.parseSize(size)) != nil else {
            throw .invalidValue(option: name, expected: "a size such as 512M or 4G")
        }
        return size
    }

    /// Paths must be absolute: mount(8) and systemd run the helper from no particular directory.
    private static func absolutePath(_ value: String?, _ name: String) throws(MountOptionError) -> String {
        let path = try required(value, name)
        guard path.hasPrefix("/") else { throw .invalidValue(option: name, expected: "an absolute path") }
        return path
    }

    /// Splits at commas outside double quotes (libmount's quoting: `opt="a,b"`).
    private static func split(_ text: String) -> [String] {
        var options: [String] = []
        var current = ""
        var quoted = false
        for character in text {
            if character == "\"" { quoted.toggle() }
            if character == "," && !quoted {
                options.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        options.append(current)
        return options
    }

    private static func unquoted(_ value: String) -> String {
        guard value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") else { return value }
        return String(value.dropFirst().dropLast())
    }
}

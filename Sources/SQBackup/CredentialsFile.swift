import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A private file of `KEY=VALUE` store settings and keys, so that keys never sit in fstab, a
/// unit file or a command line (which any user can read in /proc).
///
/// Lines are `NAME=value` (an optional `export ` prefix and quotes around the value are
/// accepted, `#` starts a comment line); only the store variables the store selection reads are
/// allowed. The file must be owned by root (or by the user running sqbackup) and must not be
/// readable or writable by group or others. Errors name the file, the line and the variable,
/// never a value.
public enum CredentialsFile {
    /// The variables a credentials file may set: keys, bucket, endpoint, region.
    public static let variables: Set<String> = [
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY",
        "CLOUDFLARE_ACCOUNT_ID", "BACKUP_BUCKET_NAME", "BACKUP_BUCKET_ENDPOINT",
    ]

    /// The variables `path` sets; INVALID_BACKUP_CONFIG when the file is unsafe or malformed.
    public static func load(path: String) throws -> [String: String] {
        try parse(readPrivately(path: path), path: path)
    }

    /// Reads the file through one descriptor, so the checked file is the one read.
    private static func readPrivately(path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw BackupError(.invalidConfig, "credentials file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw BackupError(.invalidConfig, "credentials file \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw BackupError(.invalidConfig, "credentials file \(path) is not a regular file")
        }
        let owner = info.st_uid
        guard owner == 0 || owner == geteuid() else {
            throw BackupError(
                .invalidConfig,
                "credentials file \(path) is owned by uid \(owner), not by root: anyone who owns it can change "
                    + "the keys; run chown root:root \(path)")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw BackupError(
                .invalidConfig,
                "credentials file \(path) is readable or writable by group or others (mode "
                    + String(mode, radix: 8) + "); run chmod 600 \(path)")
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count > 0 {
                bytes += buffer[0..<count]
            } else if count < 0 && errno == EINTR {
                continue
            } else if count < 0 {
                throw BackupError(.invalidConfig, "credentials file \(path): \(String(cString: strerror(errno)))")
            } else {
                break
            }
            guard bytes.count <= 1 << 20 else {
                throw BackupError(.invalidConfig, "credentials file \(path) is larger than 1 MiB")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || ("A"..."Z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }

    static func parse(_ text: String, path: String) throws -> [String: String] {
        var settings: [String: String] = [:]
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst("export ".count)) }
            guard let equals = line.firstIndex(of: "=") else {
                throw BackupError(
                    .invalidConfig, "credentials file \(path), line \(index + 1): expected NAME=value")
            }
            let name = line[..<equals].trimmingCharacters(in: .whitespaces)
            // Only a name shaped like a variable is echoed: a stray line may be a secret with an `=`.
            guard Self.isVariableName(name) else {
                throw BackupError(
                    .invalidConfig, "credentials file \(path), line \(index + 1): expected NAME=value")
            }
            guard Self.variables.contains(name) else {
                throw BackupError(
                    .invalidConfig,
                    "credentials file \(path), line \(index + 1): unknown variable \(name.prefix(64)) (allowed: "
                        + Self.variables.sorted().joined(separator: ", ") + ")")
            }
            settings[name] = unquoted(line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces))
        }
        return settings
    }

    /// `"value"` or `'value'` as written by shells and systemd EnvironmentFile=.
    private static func unquoted(_ value: String) -> String {
        for quote in ["\"", "'"] where value.count >= 2 && value.hasPrefix(quote) && value.hasSuffix(quote) {
            return String(value.dropFirst().dropLast())
        }
        return value
    }
}

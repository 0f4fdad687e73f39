/// Why a mount(8)-style option list (`--mount-options`, fstab's fourth field) was refused.
enum MountOptionError: Error, Equatable, CustomStringConvertible {
    case unknown(String)
    case readWrite
    case missingValue(String)
    case unexpectedValue(String)
    case invalidValue(option: String, expected: String)
    /// A browser option (`refresh=`, …) on a mount of one backup.
    case browserOnly(String)

    var description: String {
        switch self {
        case .unknown(let option):
            return "unknown mount option '\(option)'; sqbackup takes store=, credentials=, cache_dir=, cache_size=, "
                + "memory_cache=, prefetch=all, ca_bundle=, no_verify, allow_other, for the source 'all' refresh=, "
                + "max_open=, sandbox=, meta=KEY=VALUE, and the generic options "
                + "(ro, nodev, nosuid, noexec, noatime, noauto, nofail, _netdev, x-systemd.*, …)"
        case .readWrite:
            return "mount option 'rw': a backup mounts read-only; add 'ro' to the options "
                + "(mount(8) passes 'rw' when 'ro' is not given, and fstab's 'defaults' means 'rw')"
        case .missingValue(let option):
            return "mount option '\(option)' needs a value (\(option)=…)"
        case .unexpectedValue(let option):
            return "mount option '\(option)' takes no value"
        case .invalidValue(let option, let expected):
            return "mount option '\(option)': expected \(expected)"
        case .browserOnly(let option):
            return "mount option '\(option)' applies to a mount of every backup only: use the source 'all' "
                + "(mount -t fuse.sqbackup all DIR), or drop '\(option)'"
        }
    }
}

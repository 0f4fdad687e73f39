import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Kernel overlayfs at a target: the snapshot's lazy mount as the read-only lower layer and a
/// local upper directory that takes every write, so the root is usable before any data moved.
public struct OverlayMount: Sendable {
    /// Where the merged tree appears.
    public let target: String
    /// The read-only snapshot (a FUSE mount of the image).
    public let lower: String
    /// Local directory that receives new and changed entries.
    public let upper: String
    /// overlayfs scratch space; must be on the same filesystem as `upper`.
    public let work: String

    public init(target: String, lower: String, upper: String, work: String) {
        self.target = target
        self.lower = lower
        self.upper = upper
        self.work = work
    }

    /// Mounts the overlay on `target`. `redirect_dir=on` lets directories of the snapshot be
    /// renamed (without it overlayfs answers EXDEV, which breaks `mv` of a lower directory).
    /// `trusted`: honour the image's setuid bits, file capabilities and device nodes; otherwise
    /// (an image from a store is untrusted input) the overlay is mounted nosuid and nodev.
    public func mount(trusted: Bool = false) throws {
        for path in [lower, upper, work] where path.contains(where: { $0 == "," || $0 == ":" || $0 == "\\" }) {
            throw RestoreError(
                "\(path): overlayfs cannot take a layer path containing ',', ':' or '\\'; choose another state directory"
            )
        }
        let options = "lowerdir=\(lower),upperdir=\(upper),workdir=\(work),redirect_dir=on"
        let flags = trusted ? 0 : UInt(MS_NOSUID) | UInt(MS_NODEV)
        guard Glibc.mount("overlay", target, "overlay", flags, options) == 0 else {
            let code = errno
            if code == EPERM {
                throw RestoreError.overlayNeedsRoot(target: target)
            }
            throw RestoreError.system("mount overlay on", target, code)
        }
    }

    /// Whether this overlay is mounted: an overlay mount at `target` whose upper layer is `upper`
    /// (a filesystem check alone would also say yes anywhere on an overlayfs root).
    public var isMounted: Bool {
        Self.mounts(at: target).contains { $0.type == "overlay" && $0.options.contains("upperdir=" + upper) }
    }

    /// Whether something is mounted exactly at `path` (per /proc/self/mountinfo).
    public static func isMountpoint(_ path: String) -> Bool { !mounts(at: path).isEmpty }

    /// Mount points at or below `directory`.
    public static func mountpoints(under directory: String) -> [String] {
        mountTable().map(\.point).filter { $0 == directory || $0.hasPrefix(directory + "/") }
    }

    /// The mounts whose mount point is `path`: type and superblock options, from /proc/self/mountinfo.
    static func mounts(at path: String) -> [(type: String, options: [String])] {
        mountTable().filter { $0.point == path }.map { ($0.type, $0.options) }
    }

    private static func mountTable() -> [(point: String, type: String, options: [String])] {
        guard let file = fopen("/proc/self/mountinfo", "r") else { return [] }
        defer { fclose(file) }
        var table: [(point: String, type: String, options: [String])] = []
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            // "id parent major:minor root point options [optional…] - type source superoptions"
            let fields = String(cString: line).split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count > 5, let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count else { continue }
            let superOptions = dash + 3 < fields.count ? fields[dash + 3] : ""
            table.append(
                (
                    unescape(String(fields[4])), String(fields[dash + 1]),
                    superOptions.trimmingCharacters(in: .newlines).split(separator: ",").map { unescape(String($0)) }
                ))
        }
        return table
    }

    /// mountinfo writes space, tab, newline and backslash as octal escapes (`\040`).
    private static func unescape(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var bytes: [UInt8] = []
        let source = Array(text.utf8)
        var index = 0
        while index < source.count {
            if source[index] == 92, index + 3 < source.count,
                let value = UInt8(String(decoding: source[index + 1...index + 3], as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                index += 4
            } else {
                bytes.append(source[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Unmounts whatever is mounted at `path`; `detach` lets it go while files are open.
    public static func unmount(_ path: String, detach: Bool) throws {
        guard umount2(path, detach ? Int32(MNT_DETACH) : 0) == 0 else {
            let code = errno
            if code == EBUSY {
                throw RestoreError.busy(path: path)
            }
            throw RestoreError.system("unmount", path, code)
        }
    }
}

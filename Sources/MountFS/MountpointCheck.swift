import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Refuses mountpoints that would give a confusing result, before asking the kernel.
enum MountpointCheck {
    static func validate(_ path: String, allowNonEmpty: Bool) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOTCONN {
                throw MountError.mountpointBusy(
                    path + " (a dead FUSE mount is left there; run `sqbackup unmount \(path)`)")
            }
            throw MountError.mountpointMissing(path)
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw MountError.notADirectory(path) }
        if isMountpoint(path) { throw MountError.mountpointBusy(path) }
        if !allowNonEmpty, let contents = try? FileManager.default.contentsOfDirectory(atPath: path), !contents.isEmpty
        {
            throw MountError.mountpointNotEmpty(path)
        }
        guard access("/dev/fuse", R_OK | W_OK) == 0 else {
            throw MountError.fuseUnavailable(
                "/dev/fuse is missing or not accessible (load the fuse module, or run with access to /dev/fuse)")
        }
    }

    /// Whether `path` is listed as a mount point in /proc/self/mountinfo.
    static func isMountpoint(_ path: String) -> Bool {
        topmostMount(at: URL(fileURLWithPath: path).resolvingSymlinksInPath().path) != nil
    }

    /// The device (`major:minor`) of what is mounted at `mountpoint` now, the topmost mount if
    /// several are stacked there; nil if nothing is. Reads /proc/self/mountinfo and resolves only
    /// the parent: a stat of the mountpoint itself would be a FUSE request, maybe to this very
    /// process before its workers run (a deadlock in uninterruptible sleep). Foundation's URL
    /// helpers stat the path, hence plain string work and realpath of the parent.
    static func device(mountedAt mountpoint: String) -> String? {
        let slash = mountpoint.lastIndex(of: "/") ?? mountpoint.startIndex
        let parent = mountpoint[..<slash].isEmpty ? "/" : String(mountpoint[..<slash])
        guard let real = realpath(parent, nil) else { return nil }
        defer { free(real) }
        let base = String(cString: real)
        return topmostMount(at: (base == "/" ? "" : base) + "/" + mountpoint[mountpoint.index(after: slash)...])
            .map { String($0[2]) }
    }

    /// The fields of the last /proc/self/mountinfo line whose mount point is `resolved`.
    private static func topmostMount(at resolved: String) -> [Substring]? {
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        return table.split(separator: "\n").lazy.map { $0.split(separator: " ") }
            .last { $0.count > 4 && unescape(String($0[4])) == resolved }
    }

    /// mountinfo escapes space, tab, newline and backslash as octal.
    static func unescape(_ field: String) -> String {
        var bytes = [UInt8]()
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.first {
            if byte == UInt8(ascii: "\\"), utf8.count >= 4,
                let value = UInt8(String(decoding: utf8.dropFirst().prefix(3), as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                utf8 = utf8.dropFirst(4)
            } else {
                bytes.append(byte)
                utf8 = utf8.dropFirst()
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

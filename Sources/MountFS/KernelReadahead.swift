import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Raises the kernel's readahead for a FUSE mount. FUSE can only lower the block-device default
/// (128 KiB) from `init`; a larger window means larger read requests and, for sequential
/// readers, roughly twice the throughput. Needs root; otherwise the default stays.
enum KernelReadahead {
    /// Sets `/sys/class/bdi/<dev>/read_ahead_kb` for the mount at `mountpoint`, found in
    /// /proc/self/mountinfo (a stat of the mountpoint would wait for the not-yet-running loop).
    @discardableResult
    static func raise(mountpoint: String, kilobytes: Int) -> Bool {
        guard kilobytes > 0,
            let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        else { return false }
        // Resolve only the parent: any stat of the mountpoint itself would be a FUSE request to
        // this very process, whose loop is not running yet (a deadlock in uninterruptible sleep).
        // (Foundation's URL helpers stat the path, so plain string work and realpath of the parent.)
        let slash = mountpoint.lastIndex(of: "/") ?? mountpoint.startIndex
        let parent = mountpoint[..<slash].isEmpty ? "/" : String(mountpoint[..<slash])
        guard let real = realpath(parent, nil) else { return false }
        defer { free(real) }
        let base = String(cString: real)
        let resolved = (base == "/" ? "" : base) + "/" + mountpoint[mountpoint.index(after: slash)...]
        let device = table.split(separator: "\n").last { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 && MountpointCheck.unescape(String(fields[4])) == resolved
        }.map { String($0.split(separator: " ")[2]) }
        guard let device else { return false }
        let path = "/sys/class/bdi/\(device)/read_ahead_kb"
        return (try? "\(kilobytes)\n".write(toFile: path, atomically: false, encoding: .utf8)) != nil
    }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Raises the kernel's readahead for a FUSE mount. FUSE can only lower the block-device default
/// (128 KiB) from `init`; a larger window means larger read requests and, for sequential
/// readers, roughly twice the throughput. Needs root; otherwise the default stays.
enum KernelReadahead {
    /// Sets `/sys/class/bdi/<device>/read_ahead_kb` for the mount whose device (`major:minor`,
    /// from `MountpointCheck.device(mountedAt:)`) is given.
    @discardableResult
    static func raise(device: String?, kilobytes: Int) -> Bool {
        guard kilobytes > 0, let device else { return false }
        let path = "/sys/class/bdi/\(device)/read_ahead_kb"
        return (try? "\(kilobytes)\n".write(toFile: path, atomically: false, encoding: .utf8)) != nil
    }
}

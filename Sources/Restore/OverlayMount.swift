import CShims

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

    /// `statfs` magic numbers of the filesystems this type deals with.
    static let overlayMagic = 0x794c_7630
    static let fuseMagic = 0x6573_5546

    /// Mounts the overlay on `target`. `redirect_dir=on` lets directories of the snapshot be
    /// renamed (without it overlayfs answers EXDEV, which breaks `mv` of a lower directory).
    public func mount() throws {
        for path in [lower, upper, work] where path.contains(where: { $0 == "," || $0 == ":" || $0 == "\\" }) {
            throw RestoreError(
                "\(path): overlayfs cannot take a layer path containing ',', ':' or '\\'; choose another state directory"
            )
        }
        let options = "lowerdir=\(lower),upperdir=\(upper),workdir=\(work),redirect_dir=on"
        guard Glibc.mount("overlay", target, "overlay", 0, options) == 0 else {
            let code = errno
            if code == EPERM {
                throw RestoreError("mount overlay on \(target): kernel overlayfs needs root (CAP_SYS_ADMIN)")
            }
            throw RestoreError.system("mount overlay on", target, code)
        }
    }

    /// Whether an overlay is mounted at `path` (its root, or anywhere below it).
    public static func isOverlay(_ path: String) -> Bool { filesystemMagic(path) == overlayMagic }

    /// Whether `path` is on a FUSE filesystem; false also when the FUSE daemon is gone
    /// (statfs then fails with ENOTCONN).
    public static func isFuse(_ path: String) -> Bool { filesystemMagic(path) == fuseMagic }

    /// Unmounts whatever is mounted at `path`; `detach` lets it go while files are open.
    public static func unmount(_ path: String, detach: Bool) throws {
        guard umount2(path, detach ? Int32(MNT_DETACH) : 0) == 0 else {
            let code = errno
            if code == EBUSY {
                throw RestoreError("\(path) is busy (files are open there); close them or detach it (--lazy)")
            }
            throw RestoreError.system("unmount", path, code)
        }
    }

    private static func filesystemMagic(_ path: String) -> Int? {
        var info = statfs()
        guard statfs(path, &info) == 0 else { return nil }
        return Int(info.f_type)
    }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Detaches sqbackup mounts: FUSE mounts, and lazy roots (the overlay and the mount under it).
public enum Unmounter {
    /// Unmounts `mountpoint`; with `lazy`, detaches it even while files are open. A lazy root's
    /// target is torn down whole (see `LazyRestore.teardown`).
    public static func unmount(
        _ mountpoint: String, lazy: Bool = false, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        let path = URL(fileURLWithPath: mountpoint).standardizedFileURL.path
        if let root = LazyRoot.find(
            target: LazyRoot.canonical(path), stateRoot: LazyRoot.stateRoot(environment: environment))
        {
            return try LazyRestore.teardown(root, detach: lazy)
        }
        if getuid() == 0 {
            if umount2(path, lazy ? Int32(MNT_DETACH) : 0) == 0 { return }
            let code = errno
            switch code {
            // No such mount is "not found", as for `status`: scripts tell it from a failed unmount.
            case EINVAL: throw BackupError(.notFound, "\(path) is not a mountpoint")
            case ENOENT: throw BackupError(.notFound, "\(path) does not exist")
            case EBUSY:
                throw BackupError(.mountFailed, "\(path) is busy (files are open there)", reason: .busy(path: path))
            default: throw BackupError(.mountFailed, "unmount \(path): \(String(cString: strerror(code)))")
            }
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["fusermount3", "-u"] + (lazy ? ["-z"] : []) + [path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw BackupError(
                .mountFailed, "unmount \(path): \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }
}

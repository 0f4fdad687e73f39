import CSystemShims
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Generates the file trees that tests turn into images: every entry type squashfs can hold,
/// with odd names, modes, owners, times, xattrs, sparse and multi-MiB files.
public enum TestTree {
    /// How much of the tree to generate.
    public struct Options: Sendable {
        /// Entries in the one wide directory (`wide/`).
        public var wideDirectoryEntries = 10_000
        /// Whether to write the multi-MiB files.
        public var largeFiles = true
        /// Device nodes, owners and trusted.* xattrs need root; without it they are left out.
        public var privileged = getuid() == 0

        public init() {}
    }

    /// Deterministic pseudo-random bytes (SplitMix64), so images are reproducible across runs.
    public static func pseudoRandomBytes(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { raw in
            let words = count / 8
            let wordPointer = raw.baseAddress!.bindMemory(to: UInt64.self, capacity: words)
            for index in 0..<words {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                wordPointer[index] = z ^ (z >> 31)
            }
            for index in (words * 8)..<count { raw[index] = UInt8(truncatingIfNeeded: index &* 31) }
        }
        return bytes
    }

    /// Writes the standard tree under `root` (which must exist and be empty).
    public static func populate(at root: String, options: Options = Options()) throws {
        let fm = FileManager.default
        func path(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }
        func dir(_ relative: String) throws {
            try fm.createDirectory(atPath: path(relative), withIntermediateDirectories: true)
        }
        func file(_ relative: String, _ bytes: [UInt8]) throws {
            try Data(bytes).write(to: URL(fileURLWithPath: path(relative)))
        }
        func text(_ relative: String, _ string: String) throws { try file(relative, Array(string.utf8)) }

        try text("hello.txt", "hello, world\n")
        try file("empty", [])
        try dir("text")
        for index in 0..<60 {
            // Sizes around fragment and block boundaries.
            let size = [1, 100, 4095, 4096, 4097, 65_536, 131_071, 131_072, 131_073, 200_000][index % 10] + index
            try file(String(format: "text/file-%03d.txt", index), Array(repeating: UInt8(65 + index % 26), count: size))
        }
        if options.largeFiles {
            try dir("binary")
            try file("binary/random-3m.bin", pseudoRandomBytes(count: 3 * 1024 * 1024 + 12_345, seed: 7))
            var compressible = [UInt8]()
            let line = Array("The quick brown fox jumps over the lazy dog 0123456789\n".utf8)
            while compressible.count < 5 * 1024 * 1024 { compressible += line }
            try file("binary/compressible-5m.txt", compressible)
            try file("binary/duplicate-of-random.bin", pseudoRandomBytes(count: 3 * 1024 * 1024 + 12_345, seed: 7))
        }
        // Sparse: holes at the start, in the middle and at the end.
        let sparse = open(path("sparse.img"), O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        guard sparse >= 0 else { throw TestTreeError.system("open sparse.img", errno) }
        let chunk = pseudoRandomBytes(count: 70_000, seed: 3)
        _ = chunk.withUnsafeBytes { pwrite(sparse, $0.baseAddress, $0.count, 1_048_576) }
        _ = chunk.withUnsafeBytes { pwrite(sparse, $0.baseAddress, $0.count, 9_000_000) }
        ftruncate(sparse, 24 * 1024 * 1024)
        close(sparse)

        var deep = "deep"
        for level in 0..<40 { deep += "/d\(level)" }
        try dir(deep)
        try text(deep + "/leaf.txt", "bottom\n")

        try dir("wide")
        for index in 0..<options.wideDirectoryEntries {
            let name = path(String(format: "wide/entry-%05d", index))
            guard fm.createFile(atPath: name, contents: index % 100 == 0 ? Data("\(index)\n".utf8) : nil) else {
                throw TestTreeError.system("create \(name)", errno)
            }
        }

        try dir("names")
        try text("names/" + String(repeating: "L", count: 255), "long name\n")
        try text("names/héllo wörld ☃.txt", "unicode\n")
        try text("names/日本語のファイル.md", "nihongo\n")
        try text("names/emoji 🎉 party", "emoji\n")
        try text("names/with spaces and +plus", "spaces\n")
        try text("names/.hidden", "hidden\n")

        try dir("links")
        try fm.createSymbolicLink(atPath: path("links/relative"), withDestinationPath: "../hello.txt")
        try fm.createSymbolicLink(atPath: path("links/absolute"), withDestinationPath: "/etc/hostname")
        try fm.createSymbolicLink(atPath: path("links/dangling"), withDestinationPath: "does/not/exist")
        try fm.createSymbolicLink(atPath: path("links/to-dir"), withDestinationPath: "../deep")
        try fm.createSymbolicLink(
            atPath: path("links/long-target"), withDestinationPath: String(repeating: "x/", count: 300) + "end")

        try dir("hard")
        try text("hard/original", "linked content\n")
        try fm.linkItem(atPath: path("hard/original"), toPath: path("hard/second"))
        try fm.linkItem(atPath: path("hard/original"), toPath: path("text/third-link"))

        try dir("special")
        guard mkfifo(path("special/fifo"), 0o640) == 0 else { throw TestTreeError.system("mkfifo", errno) }
        try makeSocket(at: path("special/socket"))
        if options.privileged {
            guard mknod(path("special/char-null"), S_IFCHR | 0o666, sqb_makedev(1, 3)) == 0,
                mknod(path("special/block-loop"), S_IFBLK | 0o660, sqb_makedev(7, 0)) == 0,
                mknod(path("special/char-big"), S_IFCHR | 0o600, sqb_makedev(300, 70_000)) == 0
            else { throw TestTreeError.system("mknod", errno) }
        }

        try dir("modes/sticky")
        try text("modes/setuid", "#!/bin/sh\n")
        try text("modes/none", "secret\n")
        try text("modes/group-write", "gw\n")
        chmod(path("modes/setuid"), 0o4755)
        chmod(path("modes/sticky"), 0o1777)
        chmod(path("modes/none"), 0)
        chmod(path("modes/group-write"), 0o620)

        try text("xattrs.txt", "has xattrs\n")
        try setXattr(path("xattrs.txt"), "user.comment", Array("a comment".utf8))
        try setXattr(path("xattrs.txt"), "user.binary", [0, 1, 2, 255, 254, 0, 7])
        try setXattr(path("xattrs.txt"), "user.empty", [])
        try setXattr(path("xattrs.txt"), "user.big", pseudoRandomBytes(count: 3000, seed: 11))
        try setXattr(path("text"), "user.on-a-dir", Array("dir".utf8))
        if options.privileged {
            try setXattr(path("xattrs.txt"), "trusted.secret", Array("root only".utf8))
            try text("owned", "owned by someone else\n")
            lchown(path("owned"), 1234, 5678)
            lchown(path("links/relative"), 4321, 8765)
            lchown(path("text"), 65534, 65534)
        }

        // Times last: creating entries changes their directories' mtimes.
        try setTime(path("hello.txt"), 1)
        try setTime(path("text/file-000.txt"), 4_102_444_800)  // 2100-01-01
        try setTime(path("links/relative"), 946_684_800)
        let enumerator = fm.enumerator(atPath: root)
        var directories = [root]
        while let relative = enumerator?.nextObject() as? String {
            var info = stat()
            guard lstat(path(relative), &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                directories.append(path(relative))
            } else {
                try freezeAccessTime(path(relative))
            }
        }
        for (index, directory) in directories.reversed().enumerated() {
            try setTime(directory, 1_600_000_000 + index)
        }
    }

    /// mksquashfs finds hard links by comparing whole `struct stat`s, atime included, so a tree
    /// that one test reads while another scans it can come out with its links split: the first read
    /// of a fresh file moves its atime (relatime does, while atime ≤ mtime or ctime). An atime past
    /// every mtime and ctime here stops relatime from moving it again.
    private static func freezeAccessTime(_ path: String) throws {
        // tv_nsec (1 << 30) - 2 is UTIME_OMIT (a macro Swift does not import): mtime stays.
        var times = [timespec(tv_sec: 4_200_000_000, tv_nsec: 0), timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2)]
        guard utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw TestTreeError.system("utimensat \(path)", errno)
        }
    }

    /// Sets the modification (and access) time of `path` without following symlinks.
    public static func setTime(_ path: String, _ seconds: Int) throws {
        var times = [
            timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0),
        ]
        guard utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw TestTreeError.system("utimensat \(path)", errno)
        }
    }

    /// Sets an extended attribute on `path` itself (not a symlink's target).
    public static func setXattr(_ path: String, _ name: String, _ value: [UInt8]) throws {
        let result = value.withUnsafeBytes { lsetxattr(path, name, $0.baseAddress, $0.count, 0) }
        guard result == 0 else { throw TestTreeError.system("lsetxattr \(name) on \(path)", errno) }
    }

    static func makeSocket(at path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestTreeError.system("socket", errno) }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else { throw TestTreeError.system("bind \(path)", errno) }
    }
}

/// A system call failed while generating a test tree.
public enum TestTreeError: Error, CustomStringConvertible {
    case system(String, Int32)

    public var description: String {
        switch self {
        case .system(let what, let code): return "\(what): \(String(cString: strerror(code)))"
        }
    }
}

extension TestTree {
    /// Tries to set an xattr and returns errno (0 on success), for read-only checks.
    public static func setXattrResult(_ path: String) -> Int32 {
        let value: [UInt8] = [1]
        return value.withUnsafeBytes { lsetxattr(path, "user.test", $0.baseAddress, $0.count, 0) } == 0 ? 0 : errno
    }
}

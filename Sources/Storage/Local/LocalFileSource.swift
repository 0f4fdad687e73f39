#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A `RangeSource` over a local file, read with `pread` so that threads never share a file offset.
public final class LocalFileSource: RangeSource {
    public let size: UInt64
    public let displayName: String
    public let version: String?
    private let fd: Int32

    /// Opens `path` read-only. Throws `notFound` when it does not exist, `io` when it is not a regular file.
    public init(path: String) throws {
        displayName = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw StorageError.notFound(object: path) }
            throw StorageError.io(object: path, reason: String(cString: strerror(code)))
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw StorageError.io(object: path, reason: String(cString: strerror(code)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG || (info.st_mode & S_IFMT) == S_IFBLK else {
            close(fd)
            throw StorageError.io(object: path, reason: "not a regular file")
        }
        version = "\(info.st_dev)-\(info.st_ino)-\(info.st_size)-\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        var size = UInt64(info.st_size)
        if (info.st_mode & S_IFMT) == S_IFBLK {
            let end = lseek(fd, 0, SEEK_END)
            size = end > 0 ? UInt64(end) : 0
        }
        self.fd = fd
        self.size = size
    }

    deinit { close(fd) }

    public func read(_ range: ByteRange) throws -> [UInt8] {
        try checkBounds(range)
        return try PositionedRead.bytes(
            fd, range, failed: { StorageError.io(object: displayName, reason: String(cString: strerror(errno))) },
            ended: { _ in StorageError.outOfRange(object: displayName, range: range, size: size) })
    }
}

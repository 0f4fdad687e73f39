#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

// Linux values; Glibc only exports them under _GNU_SOURCE, which Swift's module map doesn't set.
private let openNoAtime: Int32 = 0o1_000_000
private let seekData: Int32 = 3
private let seekHole: Int32 = 4

/// A regular file opened for reading its data, hole-aware, with the stat taken at open.
final class SourceFile {
    enum OpenError: Error {
        /// Gone or replaced by something that isn't a regular file since the scan.
        case vanished(String)
        case unreadable(String)
    }

    let fd: Int32
    let openInfo: stat

    init(path: [UInt8]) throws(OpenError) {
        // openNoAtime keeps a backup from touching access times; it needs ownership or CAP_FOWNER.
        var fd = withCPath(path) { open($0, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | openNoAtime) }
        if fd < 0 && errno == EPERM {
            fd = withCPath(path) { open($0, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) }
        }
        guard fd >= 0 else {
            let code = errno
            let reason = String(cString: strerror(code))
            if code == ENOENT || code == ELOOP || code == ENOTDIR { throw .vanished(reason) }
            throw .unreadable(reason)
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .unreadable(reason)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw .vanished("no longer a regular file")
        }
        // Small files are read in one call; the hint only pays for long sequential reads.
        if info.st_size > Self.wholeReadLimit { _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) }
        self.fd = fd
        openInfo = info
    }

    deinit { close(fd) }

    /// Files up to this size are read whole with one `pread` (no hole probing, no readahead hint),
    /// as mksquashfs does: most files of a tree are small, and for them the extra system calls
    /// cost more than the read.
    static let wholeReadLimit = 1 << 20

    /// Reads the first `limit` bytes (`limit` ≤ `buffer.count`) into `buffer` with as few calls as
    /// the kernel allows; returns the bytes read, fewer when the file ended early.
    func readWhole(limit: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        precondition(limit <= buffer.count)
        var position = 0
        while position < limit {
            let n = pread(fd, buffer.baseAddress! + position, limit - position, off_t(position))
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw OpenError.unreadable(String(cString: strerror(errno)))
            }
            if n == 0 { break }
            position += n
        }
        return position
    }

    /// The file's stat now, to compare with `openInfo` after reading.
    func currentInfo() -> stat? {
        var info = stat()
        return fstat(fd, &info) == 0 ? info : nil
    }

    /// Delivers the first `limit` bytes (or fewer, at an early end of file) in order, through `body`,
    /// using `buffer` for data and `zeros` for holes. Returns the number of bytes delivered.
    func read(
        limit: UInt64, buffer: UnsafeMutableRawBufferPointer, zeros: UnsafeRawBufferPointer,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> UInt64 {
        var position: UInt64 = 0
        var seekHoles = true
        while position < limit {
            // Holes come back as zeros without reading; the block processor turns zero blocks into sparse ones.
            if seekHoles {
                let data = lseek(fd, off_t(position), seekData)
                if data < 0 {
                    if errno == ENXIO {
                        // No data from here to EOF: the rest up to the current size is a hole.
                        let end = min(limit, UInt64(max(0, currentInfo()?.st_size ?? 0)))
                        try deliverZeros(from: position, to: end, zeros, body)
                        return max(position, end)
                    }
                    seekHoles = false
                    continue
                }
                if UInt64(data) > position {
                    let end = min(limit, UInt64(data))
                    try deliverZeros(from: position, to: end, zeros, body)
                    position = end
                    continue
                }
                let hole = lseek(fd, off_t(position), seekHole)
                let dataEnd = hole > off_t(position) ? min(limit, UInt64(hole)) : limit
                let (read, atEnd) = try readData(from: position, to: dataEnd, buffer, body)
                position += read
                if atEnd { return position }
            } else {
                let (read, atEnd) = try readData(from: position, to: limit, buffer, body)
                position += read
                if atEnd { return position }
            }
        }
        return position
    }

    private func deliverZeros(
        from start: UInt64, to end: UInt64, _ zeros: UnsafeRawBufferPointer,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var position = start
        while position < end {
            let count = Int(min(UInt64(zeros.count), end - position))
            try body(UnsafeRawBufferPointer(rebasing: zeros[0..<count]))
            position += UInt64(count)
        }
    }

    /// Reads `[start, end)`; `atEnd` is true when the file ended early.
    private func readData(
        from start: UInt64, to end: UInt64, _ buffer: UnsafeMutableRawBufferPointer,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> (UInt64, Bool) {
        var position = start
        while position < end {
            let want = Int(min(UInt64(buffer.count), end - position))
            let n = pread(fd, buffer.baseAddress!, want, off_t(position))
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw OpenError.unreadable(String(cString: strerror(errno)))
            }
            if n == 0 { return (position - start, true) }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            position += UInt64(n)
        }
        return (position - start, false)
    }
}

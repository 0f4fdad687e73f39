#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Whole-range `pread` of an open file, resumed after short reads and EINTR: the one read loop of
/// the local store and of local image files.
enum PositionedRead {
    /// The bytes of `range`. `failed` is the error for a read that fails (errno is set when it is
    /// called); `ended` the one for an end of file before the range ends, given where it ended.
    static func bytes(
        _ fd: Int32, _ range: ByteRange, failed: () -> StorageError, ended: (_ at: UInt64) -> StorageError
    ) throws -> [UInt8] {
        if range.length == 0 { return [] }
        return try [UInt8](unsafeUninitializedCapacity: range.length) { buffer, count in
            var done = 0
            while done < range.length {
                let n = pread(fd, buffer.baseAddress! + done, range.length - done, off_t(range.offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw failed()
                }
                if n == 0 { throw ended(range.offset + UInt64(done)) }
                done += n
            }
            count = done
        }
    }
}

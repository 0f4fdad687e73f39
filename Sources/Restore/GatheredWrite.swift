#if canImport(Glibc)
    import Glibc
#endif

/// Writes consecutive slices (a file's decompressed blocks) at one offset with `pwritev`: one
/// system call for a whole chunk instead of one per block, and no copy into a joined buffer.
enum GatheredWrite {
    /// At most this many slices per call (Linux's IOV_MAX is 1024; each nests one closure).
    private static let maxSlices = 64

    /// Writes all of `pieces` at `offset` of `fd`, resuming after short writes and EINTR.
    static func write(_ fd: Int32, _ pieces: [ArraySlice<UInt8>], at offset: UInt64, path: String) throws {
        var position = off_t(offset)
        var first = 0
        // Bytes of pieces[first] already written by a short write.
        var skip = 0
        while first < pieces.count {
            let count = min(pieces.count - first, maxSlices)
            let written = try withVectors(pieces[first..<first + count], skipping: skip) { vectors in
                while true {
                    let result = pwritev(fd, vectors.baseAddress, Int32(vectors.count), position)
                    if result < 0 && errno == EINTR { continue }
                    guard result > 0 else { throw RestoreError.system("write", path) }
                    return result
                }
            }
            position += off_t(written)
            var left = written + skip
            skip = 0
            while first < pieces.count && left >= pieces[first].count {
                left -= pieces[first].count
                first += 1
            }
            skip = left
        }
    }

    /// Calls `body` with iovecs over `pieces`, the first `skip` bytes of the first left out; each
    /// slice is pinned by its own `withUnsafeBytes`, nested one level per slice.
    private static func withVectors<T>(
        _ pieces: ArraySlice<ArraySlice<UInt8>>, skipping skip: Int, _ body: (UnsafeBufferPointer<iovec>) throws -> T
    ) throws -> T {
        var vectors = [iovec]()
        vectors.reserveCapacity(pieces.count)
        func pin(_ index: Int) throws -> T {
            guard index < pieces.endIndex else { return try vectors.withUnsafeBufferPointer(body) }
            return try pieces[index].withUnsafeBytes { raw in
                let start = index == pieces.startIndex ? skip : 0
                vectors.append(
                    iovec(
                        iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress.map { $0 + start }),
                        iov_len: raw.count - start))
                return try pin(index + 1)
            }
        }
        return try pin(pieces.startIndex)
    }
}

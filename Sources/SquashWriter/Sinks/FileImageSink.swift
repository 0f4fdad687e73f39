import Crypto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An `ImageSink` writing to a local file: buffered appends, the header patched with `pwrite` at the end.
public final class FileImageSink: ImageSink {
    public let path: String
    public private(set) var bytesWritten: UInt64 = 0
    private var fd: Int32
    private var buffer: [UInt8] = []
    private let bufferLimit = 1 << 20

    /// Creates (or truncates) the file at `path`.
    public init(path: String) throws {
        self.path = path
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw BuildError.output(path: path, reason: String(cString: strerror(errno)))
        }
        buffer.reserveCapacity(bufferLimit)
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard fd >= 0 else { throw BuildError.output(path: path, reason: "the image is already finished") }
        if buffer.count + bytes.count > bufferLimit { try flush() }
        if bytes.count >= bufferLimit {
            try writeAll(bytes, at: bytesWritten)
        } else {
            buffer.append(contentsOf: bytes)
        }
        bytesWritten += UInt64(bytes.count)
    }

    public func finish(header: [UInt8]) throws -> ImageDigest {
        guard fd >= 0 else { throw BuildError.output(path: path, reason: "the image is already finished") }
        precondition(header.count <= Self.headerSize)
        try flush()
        try header.withUnsafeBytes { try writeAll($0, at: 0) }
        let digest = try hashFile()
        guard close(fd) == 0 else {
            fd = -1
            throw BuildError.output(path: path, reason: String(cString: strerror(errno)))
        }
        fd = -1
        return .sha256(Array(digest))
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        let start = bytesWritten - UInt64(buffer.count)
        try buffer.withUnsafeBytes { try writeAll($0, at: start) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw BuildError.output(path: path, reason: String(cString: strerror(errno)))
            }
            done += n
        }
    }

    // The header changes last, so the digest needs a second pass; the file is still in the page cache.
    private func hashFile() throws -> SHA256.Digest {
        var hasher = SHA256()
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        var offset: UInt64 = 0
        while offset < bytesWritten {
            let n = pread(fd, chunk.baseAddress!, min(chunk.count, Int(bytesWritten - offset)), off_t(offset))
            if n < 0 {
                if errno == EINTR { continue }
                throw BuildError.output(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { throw BuildError.output(path: path, reason: "the image file shrank while it was hashed") }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            offset += UInt64(n)
        }
        return hasher.finalize()
    }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

// Lookup and verification: an entry is read back and its XXH3 digest checked (see
// `DiskCacheEntry.decode`) before any byte is served; a bad entry is deleted, never served.
extension DiskBlockCache {
    /// The block's bytes, or nil when it is absent or fails verification (then it is deleted).
    public func get(offset: UInt64, length: Int) -> [UInt8]? {
        let path = path(offset: offset, length: length)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            misses.add(1, ordering: .relaxed)
            return nil
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            misses.add(1, ordering: .relaxed)
            return nil
        }
        let fileSize = Int(info.st_size)
        let payload = DiskCacheEntry.decode(
            fileSize: fileSize, offset: offset, length: length, namespaceKey: namespace.key,
            readAt: { position, count in Self.read(fd, at: position, count: count) })
        guard let payload else {
            // Unlink by path: if another process has already replaced the entry with a good one,
            // this costs one refetch, never wrong bytes. A pack is shared by the names of its
            // blocks; each name accounts for its share.
            if unlink(path) == 0 {
                let share = fileSize / max(1, Int(info.st_nlink))
                accounting.withLock { $0.bytesStored = max(0, $0.bytesStored - share) }
            }
            corrupt.add(1, ordering: .relaxed)
            misses.add(1, ordering: .relaxed)
            return nil
        }
        // The mtime is the LRU clock; set it explicitly because the kernel's own timestamps are
        // tick-granular and would tie entries used within the same few milliseconds.
        let stamp = Self.now()
        var times = [stamp, stamp]
        _ = futimens(fd, &times)
        hits.add(1, ordering: .relaxed)
        return payload
    }

    static func read(_ fd: Int32, at position: Int, count: Int) -> [UInt8]? {
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let result = pread(fd, buffer.baseAddress! + done, count - done, off_t(position + done))
                if result < 0 && errno == EINTR { continue }
                guard result > 0 else {
                    failed = true
                    break
                }
                done += result
            }
            initialized = done
        }
        return failed ? nil : bytes
    }

    static func now() -> timespec {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return time
    }
}

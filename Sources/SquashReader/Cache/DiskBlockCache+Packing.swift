import Foundation

#if canImport(Glibc)
    import Glibc
#endif

// Pack writing: a run of blocks goes to disk as one file under a temporary name, then is
// hard-linked under each block's name, so readers in any process see a whole entry or none.
extension DiskBlockCache {
    /// Stores the block at `offset`. Failures (full disk, removed directory) only skip the write:
    /// the cache is an accelerator, never a reason for a read to fail.
    public func put(offset: UInt64, bytes: [UInt8]) { put(blocks: [(offset, bytes[...])]) }

    /// Stores a run of blocks as one file (see `DiskCacheEntry`) with a name per block. A name
    /// that exists already keeps its entry (another writer's copy of the same bytes, or a damaged
    /// one that its next reader deletes). Failures only skip the write, as for `put(offset:bytes:)`.
    public func put(blocks: [(offset: UInt64, bytes: ArraySlice<UInt8>)]) {
        guard blocks.count <= DiskCacheEntry.maxBlocks else {
            for start in stride(from: 0, to: blocks.count, by: DiskCacheEntry.maxBlocks) {
                put(blocks: Array(blocks[start..<min(blocks.count, start + DiskCacheEntry.maxBlocks)]))
            }
            return
        }
        guard !blocks.isEmpty else { return }
        let blocks = blocks.sorted { $0.offset < $1.offset }  // the table is searched by offset
        let (pieces, size) = pack(blocks)
        guard size <= capacityBytes, makeRoom(for: size) else {
            skippedWrites.add(blocks.count, ordering: .relaxed)
            return
        }
        let temporary = temporaryPath()
        var written = writeFile(temporary, pieces, size: size)
        if !written && errno == ENOENT {
            // Someone removed the directory (a user clearing the cache); make it again once.
            try? FileManager.default.createDirectory(atPath: namespaceDirectory, withIntermediateDirectories: true)
            written = writeFile(temporary, pieces, size: size)
        }
        guard written else {
            skippedWrites.add(blocks.count, ordering: .relaxed)
            return
        }
        // Each link appears whole or not at all, in any process; the temporary name goes after.
        var linked = 0
        var linksFailed = false
        for block in blocks {
            if link(temporary, path(offset: block.offset, length: block.bytes.count)) == 0 {
                linked += 1
            } else if errno != EEXIST {
                linksFailed = true
                break
            }
        }
        unlink(temporary)
        if linksFailed && linked == 0 {
            // A filesystem without hard links (vfat, some network mounts): a file per block.
            for block in blocks { storeAlone(block) }
            return
        }
        guard linked > 0 else { return }
        noteStored(names: linked, bytes: size)
    }

    /// Counts a stored file of `bytes` under `names` block names, and evicts when it is time.
    func noteStored(names: Int, bytes: Int) {
        entriesWritten.add(names, ordering: .relaxed)
        bytesWritten.add(bytes, ordering: .relaxed)
        let now = Self.nanoseconds()
        let rescan = accounting.withLock { state in
            state.bytesStored += bytes
            state.writtenSinceScan += bytes
            return state.bytesStored > capacityBytes || state.writtenSinceScan >= capacityBytes / 20
                || now &- state.lastScan >= Self.rescanNanoseconds
        }
        if rescan { evict(extraFreeBytes: 0) }
    }

    /// A pack of `blocks` (in offset order) as the pieces of its file, written from where the
    /// bytes are (a copy of an 8 MiB run first would cost as much again), and its size.
    func pack(_ blocks: [(offset: UInt64, bytes: ArraySlice<UInt8>)]) -> (
        pieces: [ArraySlice<UInt8>], size: Int
    ) {
        let head = DiskCacheEntry.head(blocks: blocks, namespaceKey: namespace.key)
        return ([head[...]] + blocks.map(\.bytes), blocks.reduce(head.count) { $0 + $1.bytes.count })
    }

    /// One block as a one-block pack renamed into place, for filesystems that refuse links.
    func storeAlone(_ block: (offset: UInt64, bytes: ArraySlice<UInt8>)) {
        let (pieces, size) = pack([block])
        let temporary = temporaryPath()
        guard writeFile(temporary, pieces, size: size) else {
            skippedWrites.add(1, ordering: .relaxed)
            return
        }
        guard rename(temporary, path(offset: block.offset, length: block.bytes.count)) == 0 else {
            unlink(temporary)
            skippedWrites.add(1, ordering: .relaxed)
            return
        }
        noteStored(names: 1, bytes: size)
    }

    func temporaryPath() -> String {
        let sequence = temporaryCounter.add(1, ordering: .relaxed).newValue
        return namespaceDirectory + "/" + DiskCacheNamespace.temporaryPrefix + "\(getpid())-\(sequence)-"
            + String(UInt32.random(in: .min ... .max), radix: 36)
    }

    /// Writes a new file of `pieces` in order, `size` bytes in all; on failure returns false with
    /// `errno` from the call that failed.
    func writeFile(_ path: String, _ pieces: [ArraySlice<UInt8>], size: Int) -> Bool {
        if size >= Self.directWriteMinimum, let written = writeDirect(path, pieces, size: size) { return written }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        // No fsync: a block lost or torn by a crash fails its checksum and is fetched again, and
        // fsync per block would cost more than the fetch it saves.
        var ok = true
        for piece in pieces where ok {
            ok = piece.withUnsafeBytes { Self.writeAll(fd, $0) }
        }
        let failure = errno
        close(fd)
        if !ok {
            unlink(path)
            errno = failure
        }
        return ok
    }

    /// Packs this large are written with O_DIRECT: through the page cache, persisting a streamed
    /// file cost the daemon as much CPU again as the read itself (the copy into the cache and
    /// ext4's per-page delayed allocation), and left the file's size in dirty pages for writeback.
    static let directWriteMinimum = 1 << 20
    /// Linux's O_DIRECT on x86_64 and arm64 differ; fcntl.h declares it only under _GNU_SOURCE,
    /// which the Glibc module lacks.
    #if arch(arm64)
        static let directFlag: Int32 = 0o200000
    #else
        static let directFlag: Int32 = 0o40000
    #endif
    /// Buffer address, length and file offset of direct I/O must be multiples of the device's
    /// block size; 4 KiB covers the devices in use.
    static let directAlignment = 4096

    /// Writes `pieces` as a new file with O_DIRECT through an aligned copy, then cuts the padding
    /// off; nil when the filesystem refuses direct I/O (tmpfs, some network mounts), so that the
    /// caller writes through the page cache instead.
    func writeDirect(_ path: String, _ pieces: [ArraySlice<UInt8>], size: Int) -> Bool? {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | Self.directFlag, 0o644)
        if fd < 0 { return errno == EINVAL ? nil : false }
        let padded = (size + Self.directAlignment - 1) / Self.directAlignment * Self.directAlignment
        var memory: UnsafeMutableRawPointer?
        guard posix_memalign(&memory, Self.directAlignment, padded) == 0, let memory else {
            close(fd)
            unlink(path)
            return nil
        }
        defer { free(memory) }
        var position = 0
        for piece in pieces {
            piece.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress { (memory + position).copyMemory(from: base, byteCount: bytes.count) }
            }
            position += piece.count
        }
        memset(memory + size, 0, padded - size)
        var ok = Self.writeAll(fd, UnsafeRawBufferPointer(start: memory, count: padded))
        let refused = !ok && errno == EINVAL
        if ok { ok = ftruncate(fd, off_t(size)) == 0 }
        let failure = errno
        close(fd)
        if !ok {
            unlink(path)
            errno = failure
        }
        // Alignment beyond 4 KiB refused: the page cache takes it.
        return refused ? nil : ok
    }

    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Bool {
        var written = 0
        while written < buffer.count {
            let result = write(fd, buffer.baseAddress! + written, buffer.count - written)
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { return false }
            written += result
        }
        return true
    }
}

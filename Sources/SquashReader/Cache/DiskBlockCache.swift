import Crypto
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A persistent cache of compressed image blocks on local disk, shared by mounts and processes.
///
/// Layout: `<directory>/<namespace key>/<offset>-<length>.blk`, a name per block (hard links to
/// the pack file of the run it was fetched with, see `DiskCacheEntry`), where the namespace key
/// is a hash of the caller's namespace (backup id or URL, plus the object's ETag) so that a
/// replaced object never serves old bytes. Every block carries a checksum verified on each
/// `get`; a bad entry's name is deleted and the block reported as a miss.
///
/// Writes go to a temporary file that is then linked under each block's name, so readers in any
/// process see a whole entry or none, and of two writers of the same block the first one's link
/// stays. Eviction is least-recently-used by mtime (touched on every hit) over the whole
/// directory, all namespaces, down to 90% of the capacity; it also keeps `minimumFreeFraction`
/// of the filesystem free. The byte count is kept in memory and corrected by a rescan at start,
/// at each eviction and periodically while writing (`rescanNanoseconds`, every 5% of the capacity
/// written), which is what makes other processes' writes and evictions harmless.
public final class DiskBlockCache: Sendable {
    /// The cache's root directory (shared by all namespaces).
    public let directory: String
    /// The byte budget for the whole directory, headers included.
    public let capacityBytes: Int
    /// The directory holding this namespace's entries.
    public let namespaceDirectory: String
    private let namespaceKey: [UInt8]
    private let minimumFreeFraction: Double

    private struct Accounting {
        var bytesStored: Int
        var lastFreeSpaceCheck: UInt64 = 0
        /// Other processes' writes are only seen by a rescan; these bound how stale the count gets.
        var writtenSinceScan = 0
        var lastScan: UInt64
    }

    private let accounting: Mutex<Accounting>
    private let evicting = Atomic<Bool>(false)
    private let temporaryCounter = Atomic<UInt64>(0)
    private let hits = Atomic<Int>(0)
    private let misses = Atomic<Int>(0)
    private let corrupt = Atomic<Int>(0)
    private let entriesWritten = Atomic<Int>(0)
    private let bytesWritten = Atomic<Int>(0)
    private let evictions = Atomic<Int>(0)
    private let skippedWrites = Atomic<Int>(0)

    static let entrySuffix = ".blk"
    static let temporaryPrefix = ".tmp-"
    /// Temporary files older than this belong to a writer that died; younger ones may be in use.
    static let staleTemporaryNanoseconds: UInt64 = 3_600 * 1_000_000_000
    /// statvfs is a syscall per call; the free-space floor is checked at most this often.
    static let freeSpaceCheckNanoseconds: UInt64 = 1_000_000_000
    /// While writing, the directory is rescanned at least this often, and after every 5% of the
    /// capacity written, so that N processes sharing it overshoot by at most about N x 5%.
    static let rescanNanoseconds: UInt64 = 5_000_000_000

    /// Opens (creating if needed) the cache at `directory` for `namespace` (backup id or URL
    /// hash, plus the ETag). `minimumFreeFraction` of the filesystem is kept free, as
    /// mountpoint-s3 does, so that a cache on the root filesystem cannot fill it.
    public init(directory: String, capacityBytes: Int, namespace: String, minimumFreeFraction: Double = 0.05) throws {
        self.directory = directory
        self.capacityBytes = max(0, capacityBytes)
        self.minimumFreeFraction = min(max(minimumFreeFraction, 0), 1)
        // The format version is part of the key: entries of another format live elsewhere (and
        // age out by LRU) instead of passing hydration's presence check and failing every read.
        let key = Array(SHA256.hash(data: Array("\(namespace)\u{0}format \(DiskCacheEntry.version)".utf8)).prefix(16))
        namespaceKey = key
        namespaceDirectory = (directory as NSString).appendingPathComponent(
            key.map { String(format: "%02x", $0) }.joined())
        do {
            try FileManager.default.createDirectory(atPath: namespaceDirectory, withIntermediateDirectories: true)
        } catch {
            throw DiskBlockCacheError(directory: directory, reason: "cannot create it: \(error.localizedDescription)")
        }
        guard access(namespaceDirectory, W_OK | R_OK | X_OK) == 0 else {
            throw DiskBlockCacheError(directory: directory, reason: "not readable and writable (\(Self.errnoText()))")
        }
        let scan = Self.scan(directory, removeStaleTemporaries: true)
        accounting = Mutex(Accounting(bytesStored: scan.reduce(0) { $0 + $1.size }, lastScan: Self.nanoseconds()))
    }

    /// `$XDG_CACHE_HOME/sqbackup` when that is an absolute path, else `$HOME/.cache/sqbackup`.
    public static func defaultDirectory(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String {
        // The XDG spec says relative values are invalid and must be ignored.
        if let cache = environment["XDG_CACHE_HOME"], cache.hasPrefix("/") {
            return (cache as NSString).appendingPathComponent("sqbackup")
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".cache/sqbackup")
    }

    /// The counters of this instance; `bytesStored` is the whole directory as last counted.
    public var statistics: DiskBlockCacheStatistics {
        DiskBlockCacheStatistics(
            hits: hits.load(ordering: .relaxed), misses: misses.load(ordering: .relaxed),
            corruptDiscarded: corrupt.load(ordering: .relaxed),
            entriesWritten: entriesWritten.load(ordering: .relaxed),
            bytesWritten: bytesWritten.load(ordering: .relaxed),
            bytesStored: accounting.withLock { $0.bytesStored }, evictions: evictions.load(ordering: .relaxed),
            skippedWrites: skippedWrites.load(ordering: .relaxed))
    }

    /// The path of the entry for the block at `offset` of `length` bytes.
    public func path(offset: UInt64, length: Int) -> String {
        namespaceDirectory + "/" + String(offset, radix: 16) + "-" + String(length, radix: 16) + Self.entrySuffix
    }

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
            fileSize: fileSize, offset: offset, length: length, namespaceKey: namespaceKey,
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

    /// Counts blocks the caller chose not to persist (its write backlog was full).
    func noteSkippedWrites(_ count: Int) { skippedWrites.add(count, ordering: .relaxed) }

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
    private func noteStored(names: Int, bytes: Int) {
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
    private func pack(_ blocks: [(offset: UInt64, bytes: ArraySlice<UInt8>)]) -> (
        pieces: [ArraySlice<UInt8>], size: Int
    ) {
        let head = DiskCacheEntry.head(blocks: blocks, namespaceKey: namespaceKey)
        return ([head[...]] + blocks.map(\.bytes), blocks.reduce(head.count) { $0 + $1.bytes.count })
    }

    /// One block as a one-block pack renamed into place, for filesystems that refuse links.
    private func storeAlone(_ block: (offset: UInt64, bytes: ArraySlice<UInt8>)) {
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

    private func temporaryPath() -> String {
        let sequence = temporaryCounter.add(1, ordering: .relaxed).newValue
        return namespaceDirectory + "/" + Self.temporaryPrefix + "\(getpid())-\(sequence)-"
            + String(UInt32.random(in: .min ... .max), radix: 36)
    }

    /// Rescans the directory and evicts until under 90% of the capacity and above the free-space
    /// floor. Called by `put`; public so that callers can trim after lowering a budget.
    public func trim() { evict(extraFreeBytes: 0) }

    // MARK: Eviction

    /// Makes sure `bytes` more fit under the free-space floor; false when they can't.
    private func makeRoom(for bytes: Int) -> Bool {
        guard minimumFreeFraction > 0 else { return true }
        let now = Self.nanoseconds()
        let due = accounting.withLock { state in
            guard now &- state.lastFreeSpaceCheck >= Self.freeSpaceCheckNanoseconds else { return false }
            state.lastFreeSpaceCheck = now
            return true
        }
        guard due, let shortfall = freeSpaceShortfall(adding: bytes), shortfall > 0 else { return true }
        evict(extraFreeBytes: shortfall)
        return (freeSpaceShortfall(adding: bytes) ?? 0) <= 0
    }

    /// How many bytes must be freed so that writing `adding` more keeps the floor; nil if unknown.
    private func freeSpaceShortfall(adding: Int) -> Int? {
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else { return nil }
        let blockSize = Int(info.f_frsize)
        let total = Int(info.f_blocks) * blockSize
        let available = Int(info.f_bavail) * blockSize
        let floor = Int(Double(total) * minimumFreeFraction)
        return floor - (available - adding)
    }

    private func evict(extraFreeBytes: Int) {
        // One evicter per process at a time; a put that finds one running goes on, and the running
        // one's rescan sees its entry.
        guard evicting.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return }
        defer { evicting.store(false, ordering: .releasing) }
        accounting.withLock { state in
            state.writtenSinceScan = 0
            state.lastScan = Self.nanoseconds()
        }
        let entries = Self.scan(directory, removeStaleTemporaries: false)
        var total = entries.reduce(0) { $0 + $1.size }
        let target = capacityBytes / 10 * 9
        var toFree = max(total > capacityBytes ? total - target : 0, extraFreeBytes)
        if toFree > 0 {
            // The names of a pack go together: its space comes back only when the last one goes.
            var packs = [FileKey: [ScannedEntry]]()
            for entry in entries { packs[entry.file, default: []].append(entry) }
            for names in packs.values.sorted(by: { $0[0].lastUse < $1[0].lastUse }) {
                guard toFree > 0 else { break }
                for name in names {
                    if unlink(name.path) == 0 {
                        evictions.add(1, ordering: .relaxed)
                    } else if errno != ENOENT {
                        continue
                    }
                    // ENOENT: another process evicted it first; either way it is gone.
                    total -= name.size
                    toFree -= name.size
                }
            }
        }
        accounting.withLock { $0.bytesStored = max(0, total) }
    }

    private struct FileKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    private struct ScannedEntry {
        var path: String
        var size: Int
        var lastUse: UInt64
        var file: FileKey
    }

    /// Every entry under `directory` (all namespaces) with its size and mtime.
    private static func scan(_ directory: String, removeStaleTemporaries: Bool) -> [ScannedEntry] {
        var entries: [ScannedEntry] = []
        let now = nanoseconds(clock: CLOCK_REALTIME)
        for namespace in listDirectory(directory) where !namespace.hasPrefix(".") {
            let folder = directory + "/" + namespace
            for name in listDirectory(folder) {
                let path = folder + "/" + name
                var info = stat()
                guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
                let modified = UInt64(info.st_mtim.tv_sec) &* 1_000_000_000 &+ UInt64(info.st_mtim.tv_nsec)
                if name.hasPrefix(temporaryPrefix) {
                    // A linked temporary is a writer's leftover (it unlinks its own at once after
                    // linking); it would keep its pack on disk after every block name is evicted.
                    if removeStaleTemporaries && (now &- modified > staleTemporaryNanoseconds || info.st_nlink > 1) {
                        unlink(path)
                    }
                    continue
                }
                guard name.hasSuffix(entrySuffix) else { continue }
                // The names of one pack share its inode, its size and its mtime: they count a share
                // each and, touched together, are evicted together.
                let share = Int(info.st_size) / max(1, Int(info.st_nlink))
                entries.append(
                    ScannedEntry(
                        path: path, size: share, lastUse: modified,
                        file: FileKey(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))))
            }
        }
        return entries
    }

    private static func listDirectory(_ path: String) -> [String] {
        guard let handle = opendir(path) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    // MARK: Files

    /// Writes a new file of `pieces` in order, `size` bytes in all; on failure returns false with
    /// `errno` from the call that failed.
    private func writeFile(_ path: String, _ pieces: [ArraySlice<UInt8>], size: Int) -> Bool {
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
    private static let directWriteMinimum = 1 << 20
    /// Linux's O_DIRECT on x86_64 and arm64 differ; fcntl.h declares it only under _GNU_SOURCE,
    /// which the Glibc module lacks.
    #if arch(arm64)
        private static let directFlag: Int32 = 0o200000
    #else
        private static let directFlag: Int32 = 0o40000
    #endif
    /// Buffer address, length and file offset of direct I/O must be multiples of the device's
    /// block size; 4 KiB covers the devices in use.
    private static let directAlignment = 4096

    /// Writes `pieces` as a new file with O_DIRECT through an aligned copy, then cuts the padding
    /// off; nil when the filesystem refuses direct I/O (tmpfs, some network mounts), so that the
    /// caller writes through the page cache instead.
    private func writeDirect(_ path: String, _ pieces: [ArraySlice<UInt8>], size: Int) -> Bool? {
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

    private static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Bool {
        var written = 0
        while written < buffer.count {
            let result = write(fd, buffer.baseAddress! + written, buffer.count - written)
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { return false }
            written += result
        }
        return true
    }

    private static func read(_ fd: Int32, at position: Int, count: Int) -> [UInt8]? {
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

    private static func now() -> timespec {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return time
    }

    private static func nanoseconds(clock: clockid_t = CLOCK_MONOTONIC) -> UInt64 {
        var time = timespec()
        clock_gettime(clock, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

// Eviction: least recently used packs go first, over the whole directory (all namespaces),
// down to 90% of the capacity and above the free-space floor.
extension DiskBlockCache {
    /// Makes sure `bytes` more fit under the free-space floor; false when they can't.
    func makeRoom(for bytes: Int) -> Bool {
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
    func freeSpaceShortfall(adding: Int) -> Int? {
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else { return nil }
        let blockSize = Int(info.f_frsize)
        let total = Int(info.f_blocks) * blockSize
        let available = Int(info.f_bavail) * blockSize
        let floor = Int(Double(total) * minimumFreeFraction)
        return floor - (available - adding)
    }

    func evict(extraFreeBytes: Int) {
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

    struct FileKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    struct ScannedEntry {
        var path: String
        var size: Int
        var lastUse: UInt64
        var file: FileKey
    }

    /// Every entry under `directory` (all namespaces) with its size and mtime.
    static func scan(_ directory: String, removeStaleTemporaries: Bool) -> [ScannedEntry] {
        var entries: [ScannedEntry] = []
        let now = nanoseconds(clock: CLOCK_REALTIME)
        for namespace in listDirectory(directory) where !namespace.hasPrefix(".") {
            let folder = directory + "/" + namespace
            for name in listDirectory(folder) {
                let path = folder + "/" + name
                var info = stat()
                guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
                let modified = UInt64(info.st_mtim.tv_sec) &* 1_000_000_000 &+ UInt64(info.st_mtim.tv_nsec)
                if name.hasPrefix(DiskCacheNamespace.temporaryPrefix) {
                    // A linked temporary is a writer's leftover (it unlinks its own at once after
                    // linking); it would keep its pack on disk after every block name is evicted.
                    if removeStaleTemporaries && (now &- modified > staleTemporaryNanoseconds || info.st_nlink > 1) {
                        unlink(path)
                    }
                    continue
                }
                guard name.hasSuffix(DiskCacheNamespace.entrySuffix) else { continue }
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

    static func listDirectory(_ path: String) -> [String] {
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
}

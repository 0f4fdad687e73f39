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
    public var namespaceDirectory: String { namespace.directory }
    /// Where this namespace's entries live and how they are named.
    let namespace: DiskCacheNamespace
    let minimumFreeFraction: Double

    struct Accounting {
        var bytesStored: Int
        var lastFreeSpaceCheck: UInt64 = 0
        /// Other processes' writes are only seen by a rescan; these bound how stale the count gets.
        var writtenSinceScan = 0
        var lastScan: UInt64
    }

    let accounting: Mutex<Accounting>
    let evicting = Atomic<Bool>(false)
    let temporaryCounter = Atomic<UInt64>(0)
    let hits = Atomic<Int>(0)
    let misses = Atomic<Int>(0)
    let corrupt = Atomic<Int>(0)
    let entriesWritten = Atomic<Int>(0)
    let bytesWritten = Atomic<Int>(0)
    let evictions = Atomic<Int>(0)
    let skippedWrites = Atomic<Int>(0)

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
        self.namespace = DiskCacheNamespace(name: namespace, in: directory)
        do {
            try FileManager.default.createDirectory(atPath: self.namespace.directory, withIntermediateDirectories: true)
        } catch {
            throw DiskBlockCacheError(directory: directory, reason: "cannot create it: \(error.localizedDescription)")
        }
        guard access(self.namespace.directory, W_OK | R_OK | X_OK) == 0 else {
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
    public func path(offset: UInt64, length: Int) -> String { namespace.path(offset: offset, length: length) }

    /// Counts blocks the caller chose not to persist (its write backlog was full).
    func noteSkippedWrites(_ count: Int) { skippedWrites.add(count, ordering: .relaxed) }

    /// Rescans the directory and evicts until under 90% of the capacity and above the free-space
    /// floor. Called by `put`; public so that callers can trim after lowering a budget.
    public func trim() { evict(extraFreeBytes: 0) }

    static func nanoseconds(clock: clockid_t = CLOCK_MONOTONIC) -> UInt64 {
        var time = timespec()
        clock_gettime(clock, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

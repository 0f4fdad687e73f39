import Foundation
import SquashReader
import Synchronization
import TestSupport
import Testing

/// Deterministic block content, so any reader can check what it got back.
private func block(_ offset: UInt64, length: Int) -> [UInt8] {
    var state = offset &* 0x9E37_79B9_7F4A_7C15 &+ 1
    return (0..<length).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state)
    }
}

private func fileSize(_ path: String) -> Int {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
}

/// How many of `path`'s pages are in the page cache.
private func residentPages(_ path: String) -> Int {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return -1 }
    defer { close(fd) }
    let size = fileSize(path)
    guard size > 0, let map = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), map != MAP_FAILED else { return -1 }
    defer { munmap(map, size) }
    let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    var vector = [UInt8](repeating: 0, count: (size + pageSize - 1) / pageSize)
    guard mincore(map, size, &vector) == 0 else { return -1 }
    return vector.filter { $0 & 1 != 0 }.count
}

private func rewrite(_ path: String, _ change: (inout [UInt8]) -> Void) throws {
    var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    change(&bytes)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// A pack's table row: offset, length, position (8 bytes each) and a 16-byte digest.
private let rowSize = 40
/// What `DiskBlockCache` puts in front of a one-block entry: the pack header and one table row.
private let headerSize = 12 + rowSize

@Suite("DiskBlockCache")
struct DiskBlockCacheTests {
    @Test func roundTripAndCounters() throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        let cache = try DiskBlockCache(directory: work.path, capacityBytes: 1 << 20, namespace: "backup-1 \"etag\"")
        #expect(cache.get(offset: 96, length: 4096) == nil)
        cache.put(offset: 96, bytes: block(96, length: 4096))
        #expect(cache.get(offset: 96, length: 4096) == block(96, length: 4096))
        // The length is part of the key: the same offset with another length is another block.
        #expect(cache.get(offset: 96, length: 4095) == nil)
        #expect(fileSize(cache.path(offset: 96, length: 4096)) == headerSize + 4096)
        #expect(cache.namespaceDirectory.hasPrefix(work.path + "/"))
        let stats = cache.statistics
        #expect(stats.hits == 1)
        #expect(stats.misses == 2)
        #expect(stats.corruptDiscarded == 0)
        #expect(stats.entriesWritten == 1)
        #expect(stats.bytesWritten == headerSize + 4096)
        #expect(stats.bytesStored == headerSize + 4096)
    }

    @Test func emptyBlockRoundTrips() throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        let cache = try DiskBlockCache(directory: work.path, capacityBytes: 1 << 20, namespace: "n")
        cache.put(offset: 7, bytes: [])
        #expect(cache.get(offset: 7, length: 0) == [])
    }

    @Test(arguments: [0, 3, 9, 17, 30, 40, 51, headerSize + 100, headerSize + 4095])
    func flippedByteIsDiscardedAndCounted(at index: Int) throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        let cache = try DiskBlockCache(directory: work.path, capacityBytes: 1 << 20, namespace: "n")
        cache.put(offset: 1 << 33, bytes: block(1 << 33, length: 4096))
        let path = cache.path(offset: 1 << 33, length: 4096)
        try rewrite(path) { $0[index] ^= 0x20 }
        #expect(cache.get(offset: 1 << 33, length: 4096) == nil)
        #expect(cache.statistics.corruptDiscarded == 1)
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(cache.statistics.bytesStored == 0)
        // Fetched again and stored again, it is served.
        cache.put(offset: 1 << 33, bytes: block(1 << 33, length: 4096))
        #expect(cache.get(offset: 1 << 33, length: 4096) == block(1 << 33, length: 4096))
    }

    @Test(arguments: [0, 10, headerSize, headerSize + 2000])
    func truncatedEntryIsDiscarded(keeping count: Int) throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        let cache = try DiskBlockCache(directory: work.path, capacityBytes: 1 << 20, namespace: "n")
        cache.put(offset: 0, bytes: block(0, length: 4096))
        let path = cache.path(offset: 0, length: 4096)
        #expect(truncate(path, off_t(count)) == 0)
        #expect(cache.get(offset: 0, length: 4096) == nil)
        #expect(cache.statistics.corruptDiscarded == 1)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("a run is one file under a name per block: one inode, counted once, damage stays per block")
    func runIsOnePack() throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        let cache = try DiskBlockCache(directory: work.path, capacityBytes: 1 << 20, namespace: "n")
        let sizes = [4096, 1000, 3000]
        let offsets: [UInt64] = [1 << 20, (1 << 20) + 4096, (1 << 20) + 5096]
        let blocks = zip(offsets, sizes).map { (offset: $0, bytes: block($0, length: $1)[...]) }
        cache.put(blocks: blocks)
        for (offset, size) in zip(offsets, sizes) {
            #expect(cache.get(offset: offset, length: size) == block(offset, length: size))
        }
        var inodes = Set<UInt64>()
        for (offset, size) in zip(offsets, sizes) {
            var info = stat()
            #expect(stat(cache.path(offset: offset, length: size), &info) == 0)
            #expect(info.st_nlink == 3)
            inodes.insert(UInt64(info.st_ino))
        }
        #expect(inodes.count == 1)
        let packSize = 12 + 3 * rowSize + sizes.reduce(0, +)
        #expect(cache.statistics.bytesStored == packSize)
        #expect(cache.statistics.entriesWritten == 3)
        // Each name counts a third of the file (rounded down) when the directory is scanned.
        let rescanned = try DiskBlockCache(directory: work.path, capacityBytes: 1 << 20, namespace: "n")
        #expect(packSize - rescanned.statistics.bytesStored < 3)
        let names = try FileManager.default.contentsOfDirectory(atPath: cache.namespaceDirectory)
        #expect(!names.contains { $0.hasPrefix(".tmp-") }, "\(names)")
        // A flipped byte in the second block's bytes fails that block only.
        try rewrite(cache.path(offset: offsets[1], length: sizes[1])) { $0[12 + 3 * rowSize + 4096 + 10] ^= 1 }
        #expect(cache.get(offset: offsets[1], length: sizes[1]) == nil)
        #expect(cache.get(offset: offsets[0], length: sizes[0]) == block(offsets[0], length: sizes[0]))
        #expect(cache.get(offset: offsets[2], length: sizes[2]) == block(offsets[2], length: sizes[2]))
        #expect(cache.statistics.corruptDiscarded == 1)
    }

    @Test("a large pack is written past the page cache where the filesystem allows, else through it")
    func largePackWritesDirectOrBuffered() throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        // 16 blocks of 128 KiB: a 2 MiB pack, over the size written with O_DIRECT.
        let blocks = (0..<16).map { index in (UInt64(index) * 131_072, block(UInt64(index) * 131_072, length: 131_072))
        }
        var directories = [(work.path, true)]
        if FileManager.default.fileExists(atPath: "/dev/shm") {
            let directory = "/dev/shm/disk-cache-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            directories.append((directory, false))
        } else {
            print("NOTE: no /dev/shm; the page-cache fallback for filesystems without O_DIRECT is not exercised")
        }
        for (directory, diskBacked) in directories {
            defer { if !diskBacked { try? FileManager.default.removeItem(atPath: directory) } }
            let cache = try DiskBlockCache(directory: directory, capacityBytes: 64 << 20, namespace: "n")
            cache.put(blocks: blocks.map { ($0.0, $0.1[...]) })
            let path = cache.path(offset: 0, length: 131_072)
            // The pack's exact size: the padding direct I/O needs is cut off.
            #expect(fileSize(path) == 12 + 16 * rowSize + 16 * 131_072, "in \(directory)")
            let filesystem = try Shell.run(["stat", "-f", "-c", "%T", directory]).stdout
            if diskBacked && !filesystem.contains("tmpfs") {
                #expect(residentPages(path) == 0, "a pack written with O_DIRECT left pages in the page cache")
            }
            for (offset, bytes) in blocks {
                #expect(cache.get(offset: offset, length: 131_072) == bytes)
            }
        }
    }

    @Test func entryUnderAnotherBlocksNameIsRejected() throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        let cache = try DiskBlockCache(directory: work.path, capacityBytes: 1 << 20, namespace: "n")
        cache.put(offset: 4096, bytes: block(4096, length: 1000))
        // Same length, other offset: a valid file in the wrong place must not be served.
        try FileManager.default.copyItem(
            atPath: cache.path(offset: 4096, length: 1000), toPath: cache.path(offset: 8192, length: 1000))
        #expect(cache.get(offset: 8192, length: 1000) == nil)
        #expect(cache.statistics.corruptDiscarded == 1)
        #expect(cache.get(offset: 4096, length: 1000) == block(4096, length: 1000))
        // Its table row rewritten to claim the new offset: only the digest, whose seed covers the
        // offset, tells it apart.
        try FileManager.default.copyItem(
            atPath: cache.path(offset: 4096, length: 1000), toPath: cache.path(offset: 8192, length: 1000))
        try rewrite(cache.path(offset: 8192, length: 1000)) { bytes in
            withUnsafeBytes(of: UInt64(8192).littleEndian) { bytes.replaceSubrange(12..<20, with: $0) }
        }
        #expect(cache.get(offset: 8192, length: 1000) == nil)
        #expect(cache.statistics.corruptDiscarded == 2)
    }

    @Test func changedETagIsAnotherNamespace() throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        let old = try DiskBlockCache(directory: work.path, capacityBytes: 1 << 20, namespace: "id-1 \"etag-a\"")
        old.put(offset: 0, bytes: block(0, length: 512))
        let new = try DiskBlockCache(directory: work.path, capacityBytes: 1 << 20, namespace: "id-1 \"etag-b\"")
        #expect(new.namespaceDirectory != old.namespaceDirectory)
        #expect(new.get(offset: 0, length: 512) == nil)
        #expect(new.statistics.corruptDiscarded == 0)
        // An entry copied across namespaces fails its checksum (the namespace is part of it).
        try FileManager.default.copyItem(
            atPath: old.path(offset: 0, length: 512), toPath: new.path(offset: 0, length: 512))
        #expect(new.get(offset: 0, length: 512) == nil)
        #expect(new.statistics.corruptDiscarded == 1)
        // Both namespaces count against the one budget (trim rescans the directory).
        new.trim()
        #expect(new.statistics.bytesStored == headerSize + 512)
    }

    @Test func evictsLeastRecentlyUsedAcrossNamespacesToNinetyPercent() throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        let entry = headerSize + 1000
        let capacity = entry * 4 + 100
        let first = try DiskBlockCache(directory: work.path, capacityBytes: capacity, namespace: "a")
        let second = try DiskBlockCache(directory: work.path, capacityBytes: capacity, namespace: "b")
        first.put(offset: 0, bytes: block(0, length: 1000))
        usleep(5_000)
        second.put(offset: 1, bytes: block(1, length: 1000))
        usleep(5_000)
        first.put(offset: 2, bytes: block(2, length: 1000))
        usleep(5_000)
        second.put(offset: 3, bytes: block(3, length: 1000))
        usleep(5_000)
        #expect(first.get(offset: 0, length: 1000) != nil)  // now the most recently used
        usleep(5_000)
        // The fifth entry exceeds the capacity; eviction goes down to 90%: two entries leave,
        // the least recently used ones (1 in namespace b, 2 in namespace a).
        first.put(offset: 4, bytes: block(4, length: 1000))
        #expect(second.get(offset: 1, length: 1000) == nil)
        #expect(first.get(offset: 2, length: 1000) == nil)
        #expect(first.get(offset: 0, length: 1000) == block(0, length: 1000))
        #expect(second.get(offset: 3, length: 1000) == block(3, length: 1000))
        #expect(first.get(offset: 4, length: 1000) == block(4, length: 1000))
        #expect(first.statistics.evictions == 2)
        #expect(first.statistics.bytesStored == entry * 3)
        #expect(first.statistics.bytesStored <= capacity * 9 / 10)
    }

    @Test("eviction removes a pack's names together, so what stays on disk fits the capacity")
    func evictionTakesWholePacks() throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        let pack = 12 + 4 * rowSize + 4 * 1000
        let capacity = pack * 3 + 100
        let cache = try DiskBlockCache(directory: work.path, capacityBytes: capacity, namespace: "n")
        for run in 0..<8 {
            let base = UInt64(run) * 4000
            cache.put(
                blocks: (0..<4).map { index in
                    let offset = base + UInt64(index) * 1000
                    return (offset, block(offset, length: 1000)[...])
                })
            usleep(5_000)
        }
        var files = [UInt64: (size: Int, names: Int, links: Int)]()
        for name in try FileManager.default.contentsOfDirectory(atPath: cache.namespaceDirectory) {
            var info = stat()
            #expect(stat(cache.namespaceDirectory + "/" + name, &info) == 0)
            let inode = UInt64(info.st_ino)
            files[inode] = (Int(info.st_size), (files[inode]?.names ?? 0) + 1, Int(info.st_nlink))
        }
        // No pack lost some names and kept the rest (its space would not come back).
        #expect(files.values.allSatisfy { $0.names == 4 && $0.links == 4 }, "\(files)")
        #expect(files.values.reduce(0) { $0 + $1.size } <= capacity)
        // The newest run is there.
        #expect(cache.get(offset: 7 * 4000 + 3000, length: 1000) == block(7 * 4000 + 3000, length: 1000))
    }

    @Test("a large pack's table is searched, whatever order its blocks were given in")
    func largePackIsSearched() throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        let cache = try DiskBlockCache(directory: work.path, capacityBytes: 1 << 20, namespace: "n")
        // 300 rows: a table of 16,800 bytes, read a row at a time.
        let offsets = (0..<300).map { UInt64($0) * 16 }
        cache.put(blocks: offsets.reversed().map { ($0, block($0, length: 16)[...]) })
        for offset in [offsets[0], offsets[1], offsets[149], offsets[150], offsets[298], offsets[299]] {
            #expect(cache.get(offset: offset, length: 16) == block(offset, length: 16))
        }
        // A name linked to a pack that lacks its block is rejected, not served.
        #expect(link(cache.path(offset: 0, length: 16), cache.path(offset: 8, length: 16)) == 0)
        #expect(cache.get(offset: 8, length: 16) == nil)
    }

    @Test("a temporary name still linked to a pack (a writer that died) is removed at start")
    func linkedTemporaryIsRemovedAtStart() throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        let cache = try DiskBlockCache(directory: work.path, capacityBytes: 1 << 20, namespace: "n")
        cache.put(blocks: [(0, block(0, length: 100)[...]), (100, block(100, length: 100)[...])])
        let leftover = cache.namespaceDirectory + "/.tmp-1-1-dead"
        #expect(link(cache.path(offset: 0, length: 100), leftover) == 0)
        _ = try DiskBlockCache(directory: work.path, capacityBytes: 1 << 20, namespace: "n")
        #expect(!FileManager.default.fileExists(atPath: leftover))
        #expect(cache.get(offset: 100, length: 100) == block(100, length: 100))
    }

    @Test func capacityHoldsUnderManyWrites() throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        let capacity = 64 * 1024
        let cache = try DiskBlockCache(directory: work.path, capacityBytes: capacity, namespace: "n")
        for index in 0..<200 {
            cache.put(offset: UInt64(index) * 4096, bytes: block(UInt64(index), length: 4096))
            #expect(cache.statistics.bytesStored <= capacity)
        }
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: cache.namespaceDirectory)
            .reduce(0) { $0 + fileSize(cache.namespaceDirectory + "/" + $1) }
        #expect(onDisk <= capacity)
        #expect(onDisk == cache.statistics.bytesStored)
        #expect(cache.statistics.evictions > 0)
        // The newest entry survives eviction.
        #expect(cache.get(offset: 199 * 4096, length: 4096) == block(199, length: 4096))
    }

    @Test func entryLargerThanCapacityIsNotStored() throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        let cache = try DiskBlockCache(directory: work.path, capacityBytes: 1000, namespace: "n")
        cache.put(offset: 0, bytes: block(0, length: 2000))
        #expect(cache.get(offset: 0, length: 2000) == nil)
        #expect(cache.statistics.skippedWrites == 1)
        #expect(cache.statistics.bytesStored == 0)
    }

    @Test func freeSpaceFloorSkipsWrites() throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        // A floor of 100% can never be met: the write is skipped rather than filling the disk.
        let cache = try DiskBlockCache(
            directory: work.path, capacityBytes: 1 << 20, namespace: "n", minimumFreeFraction: 1.0)
        cache.put(offset: 0, bytes: block(0, length: 100))
        #expect(cache.get(offset: 0, length: 100) == nil)
        #expect(cache.statistics.skippedWrites == 1)
    }

    @Test func remountServesFromDisk() throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        do {
            let cache = try DiskBlockCache(directory: work.path, capacityBytes: 1 << 20, namespace: "id etag")
            for index in 0..<10 { cache.put(offset: UInt64(index) << 17, bytes: block(UInt64(index), length: 3000)) }
        }
        let again = try DiskBlockCache(directory: work.path, capacityBytes: 1 << 20, namespace: "id etag")
        #expect(again.statistics.bytesStored == 10 * (headerSize + 3000))
        for index in 0..<10 {
            #expect(again.get(offset: UInt64(index) << 17, length: 3000) == block(UInt64(index), length: 3000))
        }
        #expect(again.statistics.hits == 10)
        #expect(again.statistics.misses == 0)
    }

    @Test func startupRemovesStaleTemporaryFilesOnly() throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        let cache = try DiskBlockCache(directory: work.path, capacityBytes: 1 << 20, namespace: "n")
        let stale = cache.namespaceDirectory + "/.tmp-1-1-dead"
        let fresh = cache.namespaceDirectory + "/.tmp-1-2-busy"
        #expect(FileManager.default.createFile(atPath: stale, contents: Data(count: 10)))
        #expect(FileManager.default.createFile(atPath: fresh, contents: Data(count: 10)))
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: -7200)], ofItemAtPath: stale)
        let reopened = try DiskBlockCache(directory: work.path, capacityBytes: 1 << 20, namespace: "n")
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: fresh))
        #expect(reopened.statistics.bytesStored == 0)
    }

    @Test func twoInstancesShareADirectoryUnderConcurrentUse() throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        // Small enough that both instances evict while the others read and write.
        let capacity = 24 * (headerSize + 4096)
        let caches = try (0..<2).map { _ in
            try DiskBlockCache(directory: work.path, capacityBytes: capacity, namespace: "shared")
        }
        // Expected contents computed once: generating them per operation dominates a debug build.
        let expected = (0..<48).map { index in (0..<3).map { block(UInt64(index), length: 4096 - $0) } }
        let wrong = Atomic(0)
        let served = Atomic(0)
        DispatchQueue.concurrentPerform(iterations: 16) { worker in
            var generator = SystemRandomNumberGenerator()
            for step in 0..<400 {
                let cache = caches[(worker + step) % 2]
                let index = UInt64.random(in: 0..<48, using: &generator)
                let content = expected[Int(index)][Int(index % 3)]
                if let bytes = cache.get(offset: index << 12, length: content.count) {
                    served.add(1, ordering: .relaxed)
                    if bytes != content { wrong.add(1, ordering: .relaxed) }
                } else {
                    cache.put(offset: index << 12, bytes: content)
                }
            }
        }
        #expect(wrong.load(ordering: .relaxed) == 0)
        #expect(served.load(ordering: .relaxed) > 0)
        // Atomic renames: no reader ever saw a torn entry.
        #expect(caches.allSatisfy { $0.statistics.corruptDiscarded == 0 })
        #expect(caches.reduce(0) { $0 + $1.statistics.evictions } > 0)
        caches[0].trim()
        let names = try FileManager.default.contentsOfDirectory(atPath: caches[0].namespaceDirectory)
        #expect(!names.contains { $0.hasPrefix(".tmp-") })
        let onDisk = names.reduce(0) { $0 + fileSize(caches[0].namespaceDirectory + "/" + $1) }
        #expect(onDisk <= capacity)
    }

    @Test func removedDirectoryIsMadeAgain() throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        let cache = try DiskBlockCache(directory: work.path, capacityBytes: 1 << 20, namespace: "n")
        cache.put(offset: 0, bytes: block(0, length: 100))
        // A user clearing the cache under a running mount: misses, then caching resumes.
        try FileManager.default.removeItem(atPath: work.path)
        #expect(cache.get(offset: 0, length: 100) == nil)
        cache.put(offset: 0, bytes: block(0, length: 100))
        #expect(cache.get(offset: 0, length: 100) == block(0, length: 100))
        #expect(cache.statistics.skippedWrites == 0)
    }

    @Test func defaultDirectoryFollowsXDG() {
        #expect(
            DiskBlockCache.defaultDirectory(environment: ["XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"])
                == "/x/cache/sqbackup")
        #expect(
            DiskBlockCache.defaultDirectory(environment: ["XDG_CACHE_HOME": "relative", "HOME": "/home/u"])
                == "/home/u/.cache/sqbackup")
        #expect(DiskBlockCache.defaultDirectory(environment: ["HOME": "/home/u"]) == "/home/u/.cache/sqbackup")
    }

    @Test func unwritableDirectoryThrows() throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        let file = work.child("plain-file")
        #expect(FileManager.default.createFile(atPath: file, contents: Data()))
        #expect(throws: DiskBlockCacheError.self) {
            try DiskBlockCache(directory: file, capacityBytes: 1 << 20, namespace: "n")
        }
    }
}

import Foundation
import SquashReader
import Storage
import TestSupport
import Testing

@Suite("Reads through the persistent disk cache")
struct DiskCacheReadTests {
    /// An image with one multi-block file and a few small (fragment) files.
    private func makeImage(_ work: TemporaryDirectory) throws -> (image: String, big: [UInt8]) {
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        var big = TestTree.pseudoRandomBytes(count: 6 << 20, seed: 8)
        for index in stride(from: 0, to: big.count, by: 3) { big[index] = 32 }
        try Data(big).write(to: URL(fileURLWithPath: source + "/big.bin"))
        for index in 0..<20 { try Data("small \(index)\n".utf8).write(to: URL(fileURLWithPath: source + "/s\(index)")) }
        let image = work.child("image.sqsh")
        try SquashfsTools.mksquashfs(source, to: image, compressor: "zstd", blockSize: 131_072)
        return (image, big)
    }

    private func open(_ image: String, cache: String) throws -> (SquashImage, CountingSource) {
        let source = CountingSource(try LocalFileSource(path: image))
        var options = ReaderOptions()
        options.diskCache = try DiskBlockCache(directory: cache, capacityBytes: 1 << 30, namespace: "test-image")
        return (try SquashImage.open(source, options: options), source)
    }

    @Test("a remount with a warm disk cache makes no data requests")
    func warmRemount() throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        let (imagePath, big) = try makeImage(work)
        let cache = work.child("cache")
        do {
            let (image, _) = try open(imagePath, cache: cache)
            #expect(try image.read(image.resolve("big.bin")!, offset: 0, length: big.count) == big)
            _ = try image.read(image.resolve("s3")!, offset: 0, length: 100)
            image.flushDiskCache()
        }
        let (image, source) = try open(imagePath, cache: cache)
        source.reset()
        #expect(try image.read(image.resolve("big.bin")!, offset: 0, length: big.count) == big)
        #expect(try image.read(image.resolve("s3")!, offset: 0, length: 100) == Array("small 3\n".utf8))
        #expect(source.ranges.isEmpty, "\(source.ranges.count) requests")
        #expect(image.statistics.snapshot.diskCacheHits > 0)
    }

    @Test("hydration fetches every byte exactly once, then reads need no network")
    func hydration() throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        let (imagePath, big) = try makeImage(work)
        let (image, source) = try open(imagePath, cache: work.child("cache"))
        let tableStart = image.info.bytesUsed  // bound only; data lies below the metadata
        source.reset()
        let fetched = try image.hydrate()
        let ranges = source.ranges.sorted { $0.offset < $1.offset }
        #expect(fetched == ranges.reduce(0) { $0 + $1.length })
        #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.end <= $1.offset }, "a byte was fetched twice")
        #expect(ranges.allSatisfy { $0.end <= tableStart })
        // Every data byte between the superblock and the metadata: big.bin's blocks plus the fragment block.
        #expect(fetched > 0)
        #expect(try image.hydrate() == 0)
        source.reset()
        #expect(try image.read(image.resolve("big.bin")!, offset: 0, length: big.count) == big)
        #expect(source.ranges.isEmpty)
    }

    @Test("a corrupt cache entry is discarded and fetched again")
    func corruptEntry() throws {
        let work = try TemporaryDirectory("disk-cache")
        defer { work.remove() }
        let (imagePath, big) = try makeImage(work)
        let cache = work.child("cache")
        do {
            let (image, _) = try open(imagePath, cache: cache)
            try image.hydrate()
        }
        // Damage every block's checksum. A run's blocks are names of one file (each file once):
        // a 12-byte header with the block count, then a 40-byte row per block, its 16-byte digest last.
        var seen = Set<UInt64>()
        let files = FileManager.default.enumerator(atPath: cache)!.compactMap { $0 as? String }.filter { name in
            var info = stat()
            return name.hasSuffix(".blk") && stat(cache + "/" + name, &info) == 0
                && seen.insert(UInt64(info.st_ino)).inserted
        }
        #expect(!files.isEmpty)
        for file in files {
            let path = cache + "/" + file
            var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            let count = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            for row in 0..<count { bytes[12 + row * 40 + 24] ^= 0xFF }
            // Rewritten in place: a new file would break the links.
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            try handle.write(contentsOf: Data(bytes))
            try handle.close()
        }
        let (image, source) = try open(imagePath, cache: cache)
        source.reset()
        #expect(try image.read(image.resolve("big.bin")!, offset: 0, length: big.count) == big)
        #expect(!source.ranges.isEmpty)
    }
}

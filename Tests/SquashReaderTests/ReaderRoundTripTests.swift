import Foundation
import SquashReader
import Storage
import TestSupport
import Testing

@Suite("Image reader round trips against mksquashfs images")
struct ReaderRoundTripTests {
    @Test(
        "every entry matches the source tree",
        arguments: [("gzip", 131_072), ("xz", 65_536), ("lz4", 4096), ("zstd", 1_048_576), ("zstd", 131_072)])
    func matchesSource(compressor: String, blockSize: Int) throws {
        let tree = try TestTree.shared()
        let work = try TemporaryDirectory("reader")
        defer { work.remove() }
        let imagePath = work.child("image.sqsh")
        try SquashfsTools.mksquashfs(tree, to: imagePath, compressor: compressor, blockSize: blockSize)
        let image = try SquashImage.open(try LocalFileSource(path: imagePath))
        #expect(image.info.compressor == compressor)
        #expect(image.info.blockSize == blockSize)
        let problems = try ImageExpectations.differences(image: image, source: tree)
        #expect(problems.isEmpty, "\(problems.prefix(20))")
        #expect(image.rejectedEntries.isEmpty)
    }

    @Test("sixteen parallel readers at random offsets get every byte right")
    func parallelRandomReads() throws {
        let tree = try TestTree.shared()
        let work = try TemporaryDirectory("reader-parallel")
        defer { work.remove() }
        let imagePath = work.child("image.sqsh")
        try SquashfsTools.mksquashfs(tree, to: imagePath, compressor: "zstd", blockSize: 65_536)
        var options = ReaderOptions()
        options.cacheBytes = 1 << 20  // small, so threads also race on eviction and refetch
        let image = try SquashImage.open(try LocalFileSource(path: imagePath), options: options)
        let files = ["binary/random-3m.bin", "binary/compressible-5m.txt", "sparse.img", "text/file-009.txt"]
        let expected = try files.map { try [UInt8](Data(contentsOf: URL(fileURLWithPath: tree + "/" + $0))) }
        let ids = files.map { image.resolve($0)! }
        let failures = ConcurrentResults<Int>(count: 16)
        DispatchQueue.concurrentPerform(iterations: 16) { worker in
            var generator = SplitMix(seed: UInt64(worker + 1))
            var wrong = 0
            for _ in 0..<300 {
                let which = Int(generator.next() % UInt64(files.count))
                let size = expected[which].count
                let offset = Int(generator.next() % UInt64(size + 10))
                let length = Int(generator.next() % 300_000) + 1
                let got = (try? image.read(ids[which], offset: UInt64(offset), length: length)) ?? [1, 2, 3]
                let want = offset >= size ? [] : Array(expected[which][offset..<min(size, offset + length)])
                if got != want { wrong += 1 }
            }
            failures.set(worker, .success(wrong))
        }
        #expect(try failures.values().reduce(0, +) == 0)
    }
}

/// A tiny deterministic generator for test offsets.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import Foundation
import SquashReader
import Storage
import TestSupport
import Testing

/// Builds a small image whose first file has compressible (so compressed) blocks.
func makeSmallImage(in work: TemporaryDirectory, compressor: String = "zstd") throws -> String {
    let source = work.child("src")
    try FileManager.default.createDirectory(atPath: source + "/dir", withIntermediateDirectories: true)
    var text = [UInt8]()
    while text.count < 600_000 { text += Array("line \(text.count) of compressible text\n".utf8) }
    try Data(text).write(to: URL(fileURLWithPath: source + "/a.txt"))
    try Data("small file\n".utf8).write(to: URL(fileURLWithPath: source + "/dir/b.txt"))
    try TestTree.setXattr(source + "/dir/b.txt", "user.note", Array("n".utf8))
    let image = work.child("image.sqsh")
    try SquashfsTools.mksquashfs(source, to: image, compressor: compressor, blockSize: 131_072)
    return image
}

/// Writes `bytes` at `offset` of the file at `path`.
func patch(_ path: String, at offset: Int, _ bytes: [UInt8]) throws {
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    try handle.seek(toOffset: UInt64(offset))
    try handle.write(contentsOf: Data(bytes))
    try handle.close()
}

func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// Opens an image and touches everything in it; returns the error, if any.
func openAndWalk(_ path: String) -> (any Error)? {
    do {
        let image = try SquashImage.open(try LocalFileSource(path: path))
        var stack = [SquashImage.rootID]
        while let directory = stack.popLast() {
            for (_, node) in image.entries(of: directory) {
                guard let attributes = image.attributes(of: node) else { continue }
                _ = image.extendedAttributes(of: node)
                switch attributes.kind {
                case .directory: stack.append(node)
                case .regularFile: _ = try image.read(node, offset: 0, length: Int(min(attributes.size, 1 << 24)))
                case .symlink: _ = image.symlinkTarget(of: node)
                default: break
                }
            }
        }
        return nil
    } catch {
        return error
    }
}

@Suite("Corrupt and unsupported images fail clearly, never crash")
struct CorruptImageTests {
    @Test("a file that is not squashfs")
    func notSquashfs() throws {
        let work = try TemporaryDirectory("corrupt")
        defer { work.remove() }
        let path = work.child("junk")
        try Data(TestTree.pseudoRandomBytes(count: 100_000, seed: 5)).write(to: URL(fileURLWithPath: path))
        #expect(throws: ImageError.notSquashfs(image: path, reason: "bad magic number")) {
            try SquashImage.open(try LocalFileSource(path: path))
        }
        let tiny = work.child("tiny")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: tiny))
        let error = openAndWalk(tiny)
        #expect("\(error!)".contains("not a squashfs image"))
    }

    @Test("a truncated image")
    func truncated() throws {
        let work = try TemporaryDirectory("corrupt")
        defer { work.remove() }
        let image = try makeSmallImage(in: work)
        let size = try FileManager.default.attributesOfItem(atPath: image)[.size] as! Int
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: image))
        try handle.truncate(atOffset: UInt64(size / 2))
        try handle.close()
        let error = openAndWalk(image)
        #expect("\(error!)".contains("truncated"), "\(error!)")
    }

    @Test("bad table offsets", arguments: [64, 72, 48, 80, 56, 40])
    func badTableOffset(field: Int) throws {
        let work = try TemporaryDirectory("corrupt")
        defer { work.remove() }
        let image = try makeSmallImage(in: work)
        try patch(image, at: field, littleEndian(UInt64(1) << 40))
        let error = openAndWalk(image)
        #expect(error != nil)
        #expect("\(error!)".contains("corrupt") || "\(error!)".contains("outside"), "\(error!)")
    }

    @Test("an unsupported compressor (LZO) is named")
    func lzo() throws {
        let work = try TemporaryDirectory("corrupt")
        defer { work.remove() }
        let image = try makeSmallImage(in: work)
        try patch(image, at: 20, littleEndian(UInt16(3)))
        #expect(throws: ImageError.unsupportedCompressor(image: image, name: "lzo")) {
            try SquashImage.open(try LocalFileSource(path: image))
        }
    }

    @Test("a garbage data block fails that read only", arguments: ["zstd", "gzip", "xz", "lz4"])
    func garbageBlock(compressor: String) throws {
        let work = try TemporaryDirectory("corrupt")
        defer { work.remove() }
        let path = try makeSmallImage(in: work, compressor: compressor)
        let before = try SquashImage.open(try LocalFileSource(path: path))
        let small = try before.read(before.resolve("dir/b.txt")!, offset: 0, length: 100)
        // a.txt's first block starts after the superblock (and lz4's 10-byte options block).
        try patch(path, at: 112, TestTree.pseudoRandomBytes(count: 48, seed: 9))
        let image = try SquashImage.open(try LocalFileSource(path: path))
        let a = image.resolve("a.txt")!
        #expect(throws: ImageError.self) { try image.read(a, offset: 0, length: 4096) }
        #expect(try image.read(image.resolve("dir/b.txt")!, offset: 0, length: 100) == small)
        // Later blocks of the same file are still fine.
        #expect(try image.read(a, offset: 400_000, length: 10).count == 10)
        #expect(image.statistics.snapshot.corruptBlocks >= 1)
    }

    @Test("random damage to the metadata never crashes the reader")
    func metadataFuzz() throws {
        let work = try TemporaryDirectory("corrupt")
        defer { work.remove() }
        let pristine = try makeSmallImage(in: work)
        let original = try Data(contentsOf: URL(fileURLWithPath: pristine))
        let tableStart = Int(original[64..<72].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var generator = SplitMix(seed: 42)
        var failures = 0
        for round in 0..<150 {
            var damaged = [UInt8](original)
            let span = damaged.count - tableStart
            for _ in 0..<(1 + round % 8) {
                let offset = tableStart + Int(generator.next() % UInt64(span))
                damaged[offset] = UInt8(truncatingIfNeeded: generator.next())
            }
            let path = work.child("fuzz-\(round).sqsh")
            try Data(damaged).write(to: URL(fileURLWithPath: path))
            if openAndWalk(path) != nil { failures += 1 }
            try FileManager.default.removeItem(atPath: path)
        }
        // Most damage is detected; what isn't (e.g. a changed mtime) still yields a consistent tree.
        #expect(failures > 0)
    }
}

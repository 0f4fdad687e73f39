import Foundation
import SquashWriter
import TestSupport
import Testing

/// Identical files are stored once; sparse files keep their holes inside the image.
@Suite struct DedupTests {
    @Test func tenIdenticalFilesCostAboutOne() throws {
        let work = try TemporaryDirectory("writer-dedup")
        defer { work.remove() }
        let one = work.child("one")
        let ten = work.child("ten")
        try FileManager.default.createDirectory(atPath: one, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: ten + "/nested", withIntermediateDirectories: true)
        let content = Data(TestTree.pseudoRandomBytes(count: 10 * 1024 * 1024, seed: 42))
        try content.write(to: URL(fileURLWithPath: one + "/copy-0"))
        for index in 0..<10 {
            let directory = index % 2 == 0 ? ten : ten + "/nested"
            try content.write(to: URL(fileURLWithPath: directory + "/copy-\(index)"))
        }
        let single = try Fixtures.build(one, to: work.child("one.sqfs"))
        let result = try Fixtures.build(ten, to: work.child("ten.sqfs"))
        #expect(result.dedupFiles == 9)
        #expect(result.dedupBytes == 9 * 10 * 1024 * 1024)
        #expect(Double(result.imageSize) < 1.2 * Double(single.imageSize), "\(result.imageSize) vs \(single.imageSize)")
        let extracted = work.child("out")
        try Shell.check(["unsquashfs", "-no-progress", "-d", extracted, work.child("ten.sqfs")])
        #expect(TreeComparison().differences(expected: ten, actual: extracted).isEmpty)
    }

    /// Same size, different content (only the last byte differs): both stored, neither confused.
    @Test func sameSizeDifferentContentIsNotDeduplicated() throws {
        let work = try TemporaryDirectory("writer-samesize")
        defer { work.remove() }
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        var bytes = TestTree.pseudoRandomBytes(count: 300_000, seed: 5)
        try Data(bytes).write(to: URL(fileURLWithPath: source + "/a"))
        bytes[bytes.count - 1] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: source + "/b"))
        try Data(bytes).write(to: URL(fileURLWithPath: source + "/c"))
        let result = try Fixtures.build(source, to: work.child("img"))
        #expect(result.dedupFiles == 1)
        let extracted = work.child("out")
        try Shell.check(["unsquashfs", "-no-progress", "-d", extracted, work.child("img")])
        #expect(TreeComparison().differences(expected: source, actual: extracted).isEmpty)
    }

    /// Small files that share a size are hashed from the one read that stores them: every byte of
    /// the tree is read once, duplicates or not.
    @Test func smallFilesOfOneSizeAreReadOnce() throws {
        let work = try TemporaryDirectory("writer-readonce")
        defer { work.remove() }
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        for (index, seed) in [1, 2, 3, 1, 2].enumerated() {
            try Data(TestTree.pseudoRandomBytes(count: 70_000, seed: UInt64(seed)))
                .write(to: URL(fileURLWithPath: source + "/file-\(index)"))
        }
        let result = try Fixtures.build(source, to: work.child("img"))
        #expect(result.dedupFiles == 2)
        #expect(result.bytesRead == 5 * 70_000)
        let extracted = work.child("out")
        try Shell.check(["unsquashfs", "-no-progress", "-d", extracted, work.child("img")])
        #expect(TreeComparison().differences(expected: source, actual: extracted).isEmpty)
    }

    @Test func sparseFileHolesStaySparseInTheImage() throws {
        let work = try TemporaryDirectory("writer-sparse")
        defer { work.remove() }
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        let fd = open(source + "/huge-sparse", O_CREAT | O_WRONLY, 0o644)
        let data = TestTree.pseudoRandomBytes(count: 5000, seed: 9)
        _ = data.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 3 << 30) }
        ftruncate(fd, 4 << 30)  // 4 GiB, almost all hole: also exercises the extended (64-bit) file inode
        close(fd)
        let image = work.child("img")
        let result = try Fixtures.build(source, to: image)
        #expect(result.imageSize < 64 * 1024, "image is \(result.imageSize) bytes")
        let extracted = work.child("out")
        try Shell.check(["unsquashfs", "-no-progress", "-d", extracted, image])
        #expect(TreeComparison().differences(expected: source, actual: extracted).isEmpty)
    }
}

import Foundation
import SquashWriter
import TestSupport
import Testing

/// Build → independent readers (unsquashfs, rdsquashfs, squashfuse) → same tree as the source.
@Suite(.serialized) struct RoundTripTests {
    static let configurations: [(CompressorKind, Int)] = [
        (.zstd, 131_072), (.zstd, 4096), (.lz4, 131_072), (.lz4, 1_048_576),
        (.gzip, 131_072), (.gzip, 16_384), (.xz, 131_072), (.xz, 65_536),
    ]

    @Test(arguments: configurations)
    func unsquashfsExtractsTheSameTree(compressor: CompressorKind, blockSize: Int) throws {
        let source = try Fixtures.standardSource()
        let work = try TemporaryDirectory("writer-rt")
        defer { work.remove() }
        let image = work.child("ours.sqfs")
        let result = try Fixtures.build(source, to: image) {
            $0.compressor = compressor
            $0.blockSize = blockSize
        }
        #expect(result.imageSize % 4096 == 0)
        #expect(result.imageSize == UInt64(try FileManager.default.attributesOfItem(atPath: image)[.size] as! Int))
        #expect(result.sha256Hex == (try Fixtures.sha256sum(image)))
        #expect(result.warnings.isEmpty, "\(result.warnings)")

        // Listing oracle: the same listing unsquashfs gives for mksquashfs's image of the tree.
        let reference = work.child("mksquashfs.sqfs")
        try SquashfsTools.mksquashfs(
            source, to: reference, compressor: compressor.rawValue, blockSize: blockSize)
        let ours = try Fixtures.listing(image)
        let theirs = try Fixtures.listing(reference)
        #expect(ours.count == theirs.count)
        let mismatches = zip(ours, theirs).filter { $0 != $1 }
        #expect(mismatches.isEmpty, "first mismatches: \(mismatches.prefix(5))")

        // Extraction oracle: byte-for-byte and metadata-for-metadata.
        let extracted = work.child("unsquashfs")
        let unsquash = try Shell.run(["unsquashfs", "-no-progress", "-d", extracted, image])
        #expect(unsquash.succeeded, "\(unsquash.stderr)")
        let problems = TreeComparison().differences(expected: source, actual: extracted)
        #expect(problems.isEmpty, "\(problems.prefix(20).joined(separator: "\n"))")

        // Holes stay holes: the 24 MiB sparse file holds 140 KB of data.
        var info = stat()
        #expect(lstat(extracted + "/sparse.img", &info) == 0)
        // Two 70 KB data runs, each touching at most two blocks: a few blocks allocated out of 24 MiB.
        #expect(info.st_blocks * 512 <= 3 * max(blockSize, 131_072) + 65_536, "\(info.st_blocks) blocks allocated")
    }

    @Test(arguments: [CompressorKind.xz, .lz4])
    func rdsquashfsExtractsTheSameTree(compressor: CompressorKind) throws {
        let source = try Fixtures.standardSource()
        let work = try TemporaryDirectory("writer-rd")
        defer { work.remove() }
        let image = work.child("ours.sqfs")
        try Fixtures.build(source, to: image) { $0.compressor = compressor }
        let extracted = work.child("rdsquashfs")
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
        try Shell.check(["rdsquashfs", "-q", "-X", "-T", "-C", "-O", "-u", "/", "-p", extracted, image])
        var comparison = TreeComparison()
        comparison.compareRoot = false  // rdsquashfs unpacks into an existing directory
        // rdsquashfs 1.2 unpacks hard links as separate files; the link count is checked in the image instead.
        let problems = comparison.differences(expected: source, actual: extracted).filter {
            !$0.contains("nlink") && !$0.contains("hard link")
        }
        #expect(problems.isEmpty, "\(problems.prefix(20).joined(separator: "\n"))")
        let stat = try Shell.check(["rdsquashfs", "-s", "/hard/second", image])
        #expect(stat.contains("Hard link count: 3"), "\(stat)")
        // sqfsdiff parses both images: ours against mksquashfs's of the same tree, times included.
        let reference = work.child("mksquashfs.sqfs")
        try SquashfsTools.mksquashfs(source, to: reference, compressor: compressor.rawValue)
        let diff = try Shell.run(["sqfsdiff", "-T", "-a", reference, "-b", image])
        #expect(diff.succeeded, "\(diff.stdout)\(diff.stderr)")
    }

    /// squashfuse_ll rather than squashfuse: the high-level variant invents st_ino, hiding hard links.
    /// Both map trusted.* xattrs to security.* and drop empty values, for mksquashfs's images too, so
    /// xattrs are compared here only for the non-empty user.* ones.
    @Test(arguments: ["squashfuse", "squashfuse_ll"])
    func squashfuseServesTheSameTree(program: String) throws {
        let source = try Fixtures.standardSource()
        let work = try TemporaryDirectory("writer-fuse")
        defer { work.remove() }
        let image = work.child("ours.sqfs")
        try Fixtures.build(source, to: image)
        let mountPoint = work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try Fixtures.squashfuse(image, at: mountPoint, program: program)
        defer { Fixtures.unmount(mountPoint) }
        var comparison = TreeComparison()
        comparison.compareXattrs = false
        var problems = comparison.differences(expected: source, actual: mountPoint)
        if program == "squashfuse" { problems.removeAll { $0.contains("hard link to") } }
        #expect(problems.isEmpty, "\(problems.prefix(20).joined(separator: "\n"))")
        let expected = TreeComparison.xattrs(source + "/xattrs.txt").filter {
            $0.key.hasPrefix("user.") && !$0.value.isEmpty
        }
        let served = TreeComparison.xattrs(mountPoint + "/xattrs.txt").filter { $0.key.hasPrefix("user.") }
        #expect(served == expected)
        #expect(TreeComparison.xattrs(mountPoint + "/text") == ["user.on-a-dir": Array("dir".utf8)])
    }

    /// The kernel's own squashfs driver (loop mount, as root): every entry type, xattrs and hard links.
    @Test func kernelMountServesTheSameTree() throws {
        let source = try Fixtures.standardSource()
        let work = try TemporaryDirectory("writer-kernel")
        defer { work.remove() }
        let image = work.child("ours.sqfs")
        try Fixtures.build(source, to: image) { $0.compressor = .xz }
        let mountPoint = work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try Shell.check(["mount", "-t", "squashfs", "-o", "loop,ro", image, mountPoint])
        defer { _ = try? Shell.run(["umount", mountPoint]) }
        let problems = TreeComparison().differences(expected: source, actual: mountPoint)
        #expect(problems.isEmpty, "\(problems.prefix(20).joined(separator: "\n"))")
    }

    /// Incompressible data and metadata: LZ4 must store such blocks raw or unsquashfs rejects the image.
    @Test func lz4WithIncompressibleDataPassesUnsquashfs() throws {
        let work = try TemporaryDirectory("writer-lz4")
        defer { work.remove() }
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        for index in 0..<300 {
            // Random names make the directory table incompressible too.
            let fileName = String(
                TestTree.pseudoRandomBytes(count: 40, seed: UInt64(index)).map {
                    Character(UnicodeScalar($0 % 26 + 97))
                })
            try Data(TestTree.pseudoRandomBytes(count: 1000 + index * 37, seed: UInt64(1000 + index)))
                .write(to: URL(fileURLWithPath: source + "/" + fileName))
        }
        let image = work.child("lz4.sqfs")
        try Fixtures.build(source, to: image) { $0.compressor = .lz4 }
        let extracted = work.child("out")
        let unsquash = try Shell.run(["unsquashfs", "-no-progress", "-d", extracted, image])
        #expect(unsquash.succeeded, "\(unsquash.stderr)")
        #expect(TreeComparison().differences(expected: source, actual: extracted).isEmpty)
    }
}

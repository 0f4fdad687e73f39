import Foundation
import SquashReader
import Storage
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The index decodes directories and inodes on demand from the metadata tables fetched at open.
@Suite("The lazy index: decoded on demand, each metadata block once per walk")
struct LazyIndexTests {
    /// A tree of `directories` × `files` small files, with a hard link in each directory.
    private func manyFilesImage(in work: TemporaryDirectory, directories: Int = 40, files: Int = 60) throws -> String {
        let source = work.child("many")
        for directory in 0..<directories {
            let path = source + "/directory-\(directory)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            for file in 0..<files {
                try Data("file \(file) of \(directory)\n".utf8).write(
                    to: URL(fileURLWithPath: path + "/a-rather-long-file-name-\(file).txt"))
            }
            try FileManager.default.linkItem(atPath: path + "/a-rather-long-file-name-0.txt", toPath: path + "/link")
        }
        let image = work.child("many.sqsh")
        try SquashfsTools.mksquashfs(source, to: image, compressor: "zstd", blockSize: 131_072)
        return image
    }

    /// The metadata blocks of the inode and directory tables, counted from their headers: the
    /// directory table ends where the fragment table's first block begins.
    private func metadataBlockCount(_ path: String) throws -> Int {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        func u64(_ at: Int) -> UInt64 { bytes[at..<at + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        let fragmentTable = Int(u64(80))
        let end = Int(u64(fragmentTable))
        var offset = Int(u64(64))
        var count = 0
        while offset < end {
            offset += 2 + Int(UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8) & 0x7fff
            count += 1
        }
        return count
    }

    /// Lists every directory and stats every entry; returns the entries seen.
    @discardableResult
    private func walk(_ image: SquashImage) throws -> Int {
        var seen = 0
        var pending = [SquashImage.rootID]
        while let directory = pending.popLast() {
            for (_, node) in try image.loadEntries(of: directory) {
                let attributes = try #require(try image.loadAttributes(of: node))
                seen += 1
                if attributes.kind == .directory { pending.append(node) }
            }
        }
        return seen
    }

    @Test("opening decodes the root only; a walk decodes every metadata block once, a second walk none")
    func eachBlockOnce() throws {
        let work = try TemporaryDirectory("lazy-index")
        defer { work.remove() }
        let path = try manyFilesImage(in: work)
        let blocks = try metadataBlockCount(path)
        #expect(blocks > 20, "the test wants tables of many blocks, got \(blocks)")
        let image = try SquashImage.open(try LocalFileSource(path: path))
        #expect(image.statistics.metadataBlocks <= 1, "open decoded \(image.statistics.metadataBlocks) blocks")
        #expect(try walk(image) == 40 * 62)
        #expect(image.statistics.metadataBlocks == blocks)
        try walk(image)
        #expect(image.statistics.metadataBlocks == blocks, "a second walk is served from the cache")
    }

    @Test("a metadata cache far smaller than the tables still serves every entry right")
    func smallCache() throws {
        let tree = try TestTree.shared()
        let work = try TemporaryDirectory("lazy-index-small")
        defer { work.remove() }
        let path = work.child("image.sqsh")
        try SquashfsTools.mksquashfs(tree, to: path, compressor: "gzip", blockSize: 131_072)
        var options = ReaderOptions()
        options.metadataCacheBytes = 16 << 10
        let image = try SquashImage.open(try LocalFileSource(path: path), options: options)
        let problems = try ImageExpectations.differences(image: image, source: tree)
        #expect(problems.isEmpty, "\(problems.prefix(20))")
        let many = try manyFilesImage(in: work)
        let small = try SquashImage.open(try LocalFileSource(path: many), options: options)
        #expect(try walk(small) == 40 * 62)
        #expect(small.statistics.metadataBlocks > (try metadataBlockCount(many)), "blocks evicted and decoded again")
    }

    @Test("an image opened again answers ids an earlier instance handed out, before any listing")
    func idsOfAnEarlierInstance() throws {
        let work = try TemporaryDirectory("lazy-index-reopen")
        defer { work.remove() }
        let path = try manyFilesImage(in: work, directories: 5, files: 4)
        let first = try SquashImage.open(try LocalFileSource(path: path))
        let directory = try #require(try first.loadEntries(of: SquashImage.rootID).last)
        let file = try #require(try first.loadEntries(of: directory.node).first)
        let expected = try #require(try first.loadAttributes(of: file.node))

        // As `mount --all` does after closing an idle image the kernel still holds inodes of.
        let again = try SquashImage.open(try LocalFileSource(path: path))
        let found = try #require(try again.loadAttributes(of: file.node))
        #expect(found.id == expected.id && found.size == expected.size && found.mode == expected.mode)
        #expect(try again.loadAttributes(of: NodeID(1_000_000)) == nil, "an id beyond the image")
    }

    @Test("hard links share one node id, ids are inode numbers, and the root is 1")
    func nodeIDs() throws {
        let work = try TemporaryDirectory("lazy-index-ids")
        defer { work.remove() }
        let image = try SquashImage.open(try LocalFileSource(path: try manyFilesImage(in: work, directories: 3)))
        let first = try #require(image.resolve("directory-1/a-rather-long-file-name-0.txt"))
        #expect(image.resolve("directory-1/link") == first)
        #expect(image.attributes(of: first)?.nlink == 2)
        #expect(image.resolve("directory-2/link") != first)
        var ids = Set<NodeID>()
        for directory in 0..<3 {
            for (_, node) in image.entries(of: image.resolve("directory-\(directory)")!) { ids.insert(node) }
        }
        #expect(ids.count == 3 * 60)
        #expect(ids.allSatisfy { $0 > 1 && Int($0) <= image.nodeCount })
        #expect(image.parent(of: image.resolve("directory-2")!) == SquashImage.rootID)
        #expect(image.attributes(of: SquashImage.rootID)?.kind == .directory)
        #expect(image.attributes(of: NodeID(image.nodeCount + 1)) == nil)
    }
}

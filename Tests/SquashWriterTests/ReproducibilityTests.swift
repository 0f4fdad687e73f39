import Foundation
import SquashWriter
import TestSupport
import Testing

/// The same tree gives the same bytes: across runs, thread counts and sinks.
@Suite struct ReproducibilityTests {
    @Test func sameTreeSameBytesAcrossRunsAndThreads() throws {
        let source = try Fixtures.standardSource()
        let work = try TemporaryDirectory("writer-repro")
        defer { work.remove() }
        let first = try Fixtures.build(source, to: work.child("a.sqfs")) { $0.threads = 2 }
        let second = try Fixtures.build(source, to: work.child("b.sqfs")) { $0.threads = 2 }
        let single = try Fixtures.build(source, to: work.child("c.sqfs")) { $0.threads = 1 }
        #expect(first.sha256Hex == second.sha256Hex)
        #expect(first.sha256Hex == single.sha256Hex)
        #expect(try Fixtures.sha256sum(work.child("c.sqfs")) == first.sha256Hex)
        // The superblock's time is the newest mtime in the tree (2100-01-01 in TestTree), never "now".
        #expect(first.modificationTime == 4_102_444_800)
    }

    @Test func memorySinkMatchesFileSink() throws {
        let work = try TemporaryDirectory("writer-sinks")
        defer { work.remove() }
        let source = work.child("src")
        var options = TestTree.Options()
        options.wideDirectoryEntries = 50
        options.largeFiles = false
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try TestTree.populate(at: source, options: options)
        let fileResult = try Fixtures.build(source, to: work.child("file.sqfs"))
        let memory = MemoryImageSink()
        var buildOptions = BuildOptions()
        buildOptions.threads = 2
        let memoryResult = try ImageBuilder(options: buildOptions).build(directory: source, into: memory)
        #expect(memoryResult.sha256Hex == fileResult.sha256Hex)
        #expect(memory.bytes == Array(try Data(contentsOf: URL(fileURLWithPath: work.child("file.sqfs")))))
        #expect(memory.bytesWritten == memoryResult.imageSize)
    }
}

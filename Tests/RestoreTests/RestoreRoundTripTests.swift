import Foundation
import Restore
import SquashReader
import Storage
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Restore round trips", .serialized)
struct RestoreRoundTripTests {
    @Test("a fresh restore of every entry type equals the source tree; holes stay sparse")
    func freshRoundTrip() throws {
        let work = try TemporaryDirectory("restore-fresh")
        defer { work.remove() }
        let source = try RestoreFixture.standardTree(in: work)
        let image = try RestoreFixture.image(of: source, in: work)
        let target = work.child("out/restored")

        let result = try RestoreFixture.restore(image, into: target)

        #expect(RestoreFixture.differences(source, target) == [])
        #expect(result.dir == target)
        #expect(result.filesUnchanged == 0 && result.filesRemoved == 0)
        #expect(result.filesRestored > 400)
        #expect(result.rejected == [])
        #expect(result.bytesFetched > 0 && result.bytesFetched < 20 << 20)
        var sparse = stat()
        #expect(lstat(target + "/sparse.img", &sparse) == 0)
        #expect(sparse.st_size == 24 << 20)
        #expect(Int(sparse.st_blocks) * 512 < 1 << 20, "holes were written as zeros")
        #expect(RestoreFixture.leftovers(in: work.child("out"), prefix: ".restored.") == [])
    }

    @Test("restoring into an existing empty directory replaces it; a second restore writes and fetches nothing")
    func emptyTargetThenNoop() throws {
        let work = try TemporaryDirectory("restore-noop")
        defer { work.remove() }
        let source = try RestoreFixture.standardTree(in: work, largeFiles: false)
        let imagePath = try RestoreFixture.image(of: source, in: work)
        let target = work.child("empty")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        _ = try RestoreFixture.restore(imagePath, into: target)
        #expect(RestoreFixture.differences(source, target) == [])

        let counting = CountingSource(try LocalFileSource(path: imagePath))
        let image = try SquashImage.open(counting)
        counting.reset()
        let again = try Restorer(image: image, options: RestoreFixture.exact).restore(into: target)
        #expect(again.filesRestored == 0 && again.filesRemoved == 0)
        #expect(again.filesUnchanged > 350)
        #expect(counting.ranges.isEmpty, "an unchanged tree needs no file data")
        #expect(RestoreFixture.differences(source, target) == [])
    }

    @Test("files are fetched in image order: data requests move forward through the image")
    func imageOrder() throws {
        let work = try TemporaryDirectory("restore-order")
        defer { work.remove() }
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source + "/a/b", withIntermediateDirectories: true)
        for index in 0..<40 {
            let bytes = TestTree.pseudoRandomBytes(count: 300_000 + index, seed: UInt64(index + 1))
            try Data(bytes).write(to: URL(fileURLWithPath: source + (index % 2 == 0 ? "/a/" : "/a/b/") + "f\(index)"))
        }
        let imagePath = try RestoreFixture.image(of: source, in: work)
        let counting = CountingSource(try LocalFileSource(path: imagePath))
        var readerOptions = ReaderOptions()
        readerOptions.readaheadMaximum = 0
        let image = try SquashImage.open(counting, options: readerOptions)
        counting.reset()
        var options = RestoreFixture.exact
        options.workers = 1
        options.scanAheadBytes = 0
        _ = try Restorer(image: image, options: options).restore(into: work.child("out"))
        let offsets = counting.ranges.map(\.offset)
        #expect(offsets == offsets.sorted(), "one worker reads the image front to back")
        #expect(RestoreFixture.differences(source, work.child("out")) == [])
    }

    @Test("small files are fetched ahead in merged requests, not one round trip each")
    func scanAhead() throws {
        let work = try TemporaryDirectory("restore-scan")
        defer { work.remove() }
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source + "/node_modules", withIntermediateDirectories: true)
        for index in 0..<1000 {
            let bytes = TestTree.pseudoRandomBytes(count: 20_000 + index, seed: UInt64(index + 1))
            try Data(bytes).write(to: URL(fileURLWithPath: source + "/node_modules/m\(index).js"))
        }
        let imagePath = try RestoreFixture.image(of: source, in: work)
        func requests(scanAhead: Int, into name: String) throws -> Int {
            let counting = CountingSource(try LocalFileSource(path: imagePath))
            let image = try SquashImage.open(counting)
            counting.reset()
            var options = RestoreFixture.exact
            options.scanAheadBytes = scanAhead
            _ = try Restorer(image: image, options: options).restore(into: work.child(name))
            #expect(RestoreFixture.differences(source, work.child(name)) == [])
            return counting.ranges.count
        }
        let withScan = try requests(scanAhead: 32 << 20, into: "a")
        let without = try requests(scanAhead: 0, into: "b")
        #expect(withScan <= 20, "\(withScan) requests for 20 MB of small files")
        #expect(without > 100, "\(without) requests without scan-ahead")
    }

    @Test("dataRanges reports sparse holes and data runs that cover the file")
    func dataRanges() throws {
        let work = try TemporaryDirectory("restore-ranges")
        defer { work.remove() }
        let source = try RestoreFixture.standardTree(in: work, largeFiles: false)
        let image = try SquashImage.open(try LocalFileSource(path: try RestoreFixture.image(of: source, in: work)))
        let sparse = try #require(image.resolve("sparse.img"))
        let ranges = image.dataRanges(of: sparse)
        #expect(ranges.first?.offset == 0 && ranges.first?.isHole == true)
        #expect(ranges.reduce(0) { $0 + $1.length } == 24 << 20)
        #expect(ranges.filter { !$0.isHole }.reduce(0) { $0 + $1.length } < 1 << 20)
        #expect(image.dataStart(of: sparse) != nil)
        let empty = try #require(image.resolve("empty"))
        #expect(image.dataRanges(of: empty) == [] && image.dataStart(of: empty) == nil)
    }
}

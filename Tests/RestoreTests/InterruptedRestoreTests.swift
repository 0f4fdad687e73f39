import Foundation
import Restore
import SquashReader
import Storage
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Restore that fails mid-way", .serialized)
struct InterruptedRestoreTests {
    @Test("a fresh target is absent after a failure, with no hidden partial tree left")
    func freshTargetAbsent() throws {
        let work = try TemporaryDirectory("restore-fail-fresh")
        defer { work.remove() }
        let source = try RestoreFixture.standardTree(in: work)
        let imagePath = try RestoreFixture.image(of: source, in: work)
        let failing = FailingSource(try LocalFileSource(path: imagePath), budget: .max)
        let image = try SquashImage.open(failing)
        failing.refill(2 << 20)
        let parent = work.child("parent")
        #expect(throws: (any Error).self) {
            _ = try Restorer(image: image, options: RestoreFixture.exact).restore(into: parent + "/t")
        }
        #expect(!FileManager.default.fileExists(atPath: parent + "/t"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent) == [])
    }

    @Test("the hidden tree of a restore killed mid-way is removed by the next restore; a live one's is kept")
    func abandonedSiblingRemoved() throws {
        let work = try TemporaryDirectory("restore-abandoned")
        defer { work.remove() }
        let source = try RestoreFixture.standardTree(in: work, largeFiles: false)
        let imagePath = try RestoreFixture.image(of: source, in: work)
        let parent = work.child("parent")
        // A process that has exited: its pid is free (reuse within this test is vanishingly unlikely).
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        try #require(finished.waitForExit(timeout: 60))
        let abandoned = parent + "/.t.sqbackup-restore-\(finished.processIdentifier)-1f2e"
        let live = parent + "/.t.sqbackup-restore-\(getpid())-3c4d"
        let unrelated = parent + "/.t.sqbackup-restore-notapid"
        for path in [abandoned, live, unrelated] {
            try FileManager.default.createDirectory(atPath: path + "/half", withIntermediateDirectories: true)
            try RestoreFixture.write("partial\n", to: path + "/half/file")
        }
        _ = try RestoreFixture.restore(imagePath, into: parent + "/t")
        #expect(RestoreFixture.differences(source, parent + "/t") == [])
        #expect(!FileManager.default.fileExists(atPath: abandoned))
        #expect(FileManager.default.fileExists(atPath: live + "/half/file"))
        #expect(FileManager.default.fileExists(atPath: unrelated + "/half/file"))
    }

    @Test("in place, every file is either the old or the new version after a failure, and a retry completes")
    func inPlaceNeverTorn() throws {
        let work = try TemporaryDirectory("restore-fail-inplace")
        defer { work.remove() }
        let (old, new, files) = try Self.oldAndNew(in: work)
        let oldImage = try RestoreFixture.image(of: old, in: work, name: "old.sqsh")
        let newImage = try RestoreFixture.image(of: new, in: work, name: "new.sqsh")
        let target = work.child("target")
        _ = try RestoreFixture.restore(oldImage, into: target)

        let failing = FailingSource(try LocalFileSource(path: newImage), budget: .max)
        // Small requests, so that some files complete before the budget runs out.
        var reader = ReaderOptions()
        reader.maxRequestBytes = 256 << 10
        reader.readaheadMaximum = 0
        let image = try SquashImage.open(failing, options: reader)
        failing.refill(3 << 20)
        var options = RestoreFixture.exact
        options.scanAheadBytes = 0
        #expect(throws: (any Error).self) {
            _ = try Restorer(image: image, options: options).restore(into: target)
        }
        var oldCount = 0
        var newCount = 0
        for relative in files {
            let path = target + "/" + relative
            if TreeComparison.contentDifference(old + "/" + relative, path) == nil {
                oldCount += 1
            } else if TreeComparison.contentDifference(new + "/" + relative, path) == nil {
                newCount += 1
            } else {
                Issue.record("\(relative) is neither the old nor the new version")
            }
        }
        #expect(oldCount > 0 && newCount > 0, "the failure came mid-way: \(oldCount) old, \(newCount) new")
        let temporaries = TreeComparison.walk(target).filter {
            $0.split(separator: "/").last?.hasPrefix(".sqbackup-") == true
        }
        #expect(temporaries == [])

        _ = try RestoreFixture.restore(newImage, into: target)
        #expect(RestoreFixture.differences(new, target) == [])
    }

    @Test("a stop mid-way leaves a fresh target absent, removes the hidden tree and says interrupted")
    func stopFresh() throws {
        let work = try TemporaryDirectory("restore-stop-fresh")
        defer { work.remove() }
        let source = try RestoreFixture.standardTree(in: work)
        let flag = CancellationFlag()
        let cancelling = CancellingSource(
            try LocalFileSource(path: try RestoreFixture.image(of: source, in: work)), flag: flag)
        let image = try SquashImage.open(cancelling)
        cancelling.cancel(after: 1 << 20)
        var options = RestoreFixture.exact
        options.cancellation = flag
        let parent = work.child("parent")
        let error = #expect(throws: RestoreError.self) {
            _ = try Restorer(image: image, options: options).restore(into: parent + "/t")
        }
        guard case .interrupted(let message)? = error else {
            Issue.record("not interrupted: \(String(describing: error))")
            return
        }
        #expect(message.hasPrefix("interrupted by the test; the restore stopped"), "\(message)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent) == [])
    }

    @Test("a stop mid-way in place: each file old or new, nothing removed yet, no temporaries; a retry completes")
    func stopInPlace() throws {
        let work = try TemporaryDirectory("restore-stop-inplace")
        defer { work.remove() }
        let (old, new, files) = try Self.oldAndNew(in: work)
        let newImage = try RestoreFixture.image(of: new, in: work, name: "new.sqsh")
        let target = work.child("target")
        try Shell.check(["cp", "-a", old, target])
        try RestoreFixture.write("not in the snapshot\n", to: target + "/extra.txt")

        let flag = CancellationFlag()
        let cancelling = CancellingSource(try LocalFileSource(path: newImage), flag: flag)
        var reader = ReaderOptions()
        reader.maxRequestBytes = 256 << 10
        reader.readaheadMaximum = 0
        let image = try SquashImage.open(cancelling, options: reader)
        cancelling.cancel(after: 3 << 20)
        var options = RestoreFixture.exact
        options.scanAheadBytes = 0
        options.cancellation = flag
        let error = #expect(throws: RestoreError.self) {
            _ = try Restorer(image: image, options: options).restore(into: target)
        }
        guard case .interrupted(let message)? = error else {
            Issue.record("not interrupted: \(String(describing: error))")
            return
        }
        #expect(message.contains("nothing removed"), "\(message)")
        var counts = (old: 0, new: 0)
        for relative in files {
            let path = target + "/" + relative
            if TreeComparison.contentDifference(old + "/" + relative, path) == nil {
                counts.old += 1
            } else if TreeComparison.contentDifference(new + "/" + relative, path) == nil {
                counts.new += 1
            } else {
                Issue.record("\(relative) is neither the old nor the new version")
            }
        }
        #expect(counts.old > 0 && counts.new > 0, "the stop came mid-way: \(counts)")
        #expect(FileManager.default.fileExists(atPath: target + "/extra.txt"), "extras go only at the end")
        #expect(TreeComparison.walk(target).filter { $0.contains(".sqbackup-") } == [])

        _ = try RestoreFixture.restore(newImage, into: target)
        #expect(RestoreFixture.differences(new, target) == [])
    }

    /// The standard tree ("old") and a copy ("new") in which every file under text/ differs in
    /// content and size; returns both and those files.
    static func oldAndNew(in work: TemporaryDirectory) throws -> (old: String, new: String, files: [String]) {
        let old = try RestoreFixture.standardTree(in: work, name: "old")
        let new = work.child("new")
        try Shell.check(["cp", "-a", old, new])
        let files = RestoreFixture.inodes(new).keys.filter { $0.hasPrefix("text/file-") }.sorted()
        for (index, relative) in files.enumerated() {
            let bytes = TestTree.pseudoRandomBytes(count: 150_000 + index * 1000, seed: UInt64(index + 100))
            try Data(bytes).write(to: URL(fileURLWithPath: new + "/" + relative))
        }
        return (old, new, files)
    }
}

import Foundation
import Restore
import SquashReader
import Storage
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Restore in place (rollback)", .serialized)
struct RollbackTests {
    @Test("after edits, deletions and additions only the changed entries are fetched and rewritten")
    func rollback() throws {
        let work = try TemporaryDirectory("restore-rollback")
        defer { work.remove() }
        let source = try RestoreFixture.standardTree(in: work)
        let imagePath = try RestoreFixture.image(of: source, in: work)
        let target = work.child("workspace")
        _ = try RestoreFixture.restore(imagePath, into: target)
        let before = RestoreFixture.inodes(target)

        // A user's session: edit, touch, chmod, delete, add, retarget a link, turn a file into a directory.
        try RestoreFixture.write("edited\n", to: target + "/text/file-005.txt")
        try TestTree.setTime(target + "/text/file-007.txt", 1_234_567)
        chmod(target + "/modes/group-write", 0o644)
        try FileManager.default.removeItem(atPath: target + "/hello.txt")
        try FileManager.default.removeItem(atPath: target + "/deep")
        try RestoreFixture.write("new\n", to: target + "/extra.txt")
        try FileManager.default.createDirectory(atPath: target + "/node_modules/x", withIntermediateDirectories: true)
        try RestoreFixture.write("dep\n", to: target + "/node_modules/x/index.js")
        try FileManager.default.removeItem(atPath: target + "/links/relative")
        try FileManager.default.createSymbolicLink(atPath: target + "/links/relative", withDestinationPath: "/tmp")
        try FileManager.default.removeItem(atPath: target + "/empty")
        try FileManager.default.createDirectory(atPath: target + "/empty/sub", withIntermediateDirectories: true)

        let counting = CountingSource(try LocalFileSource(path: imagePath))
        let image = try SquashImage.open(counting)
        counting.reset()
        let result = try Restorer(image: image, options: RestoreFixture.exact).restore(into: target)

        #expect(RestoreFixture.differences(source, target) == [])
        let rewritten: Set<String> = [
            "text/file-005.txt", "text/file-007.txt", "modes/group-write", "hello.txt", "empty",
            "deep/" + (0..<40).map { "d\($0)" }.joined(separator: "/") + "/leaf.txt",
        ]
        let after = RestoreFixture.inodes(target)
        for (path, inode) in before where !rewritten.contains(path) {
            #expect(after[path] == inode, "\(path) was rewritten")
        }
        for path in ["text/file-005.txt", "text/file-007.txt", "modes/group-write"] {
            #expect(after[path] != before[path], "\(path) was not replaced")
        }
        let fetched = counting.ranges.reduce(0) { $0 + $1.length }
        // Three small changed files and a leaf: a few blocks and fragment blocks, not the 11 MiB of data.
        #expect(fetched < 1 << 20, "fetched \(fetched) bytes in \(counting.ranges.count) requests")
        #expect(
            result.filesRemoved == 6,
            "extra.txt, node_modules/x/index.js, node_modules/x, node_modules, empty/sub, empty")
        #expect(result.filesUnchanged > 350)
        // 4 files, hello.txt, empty, the symlink, 41 directories of deep/ and its leaf.
        #expect(result.filesRestored == 48)
    }

    @Test("a file rewritten in the snapshot's last second, same size, is still rolled back")
    func sameSecondEdit() throws {
        let work = try TemporaryDirectory("restore-same-second")
        defer { work.remove() }
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        let second = Int(Date().timeIntervalSince1970)
        for name in ["app.py", "old.txt"] {
            try RestoreFixture.write("return 42\n", to: source + "/" + name)
            try TestTree.setTime(source + "/" + name, name == "old.txt" ? second - 60 : second)
        }
        let imagePath = work.child("image.sqsh")
        // The snapshot taken in the second app.py was last written.
        try SquashfsTools.mksquashfs(source, to: imagePath, extra: ["-mkfs-time", String(second)])
        // The refactor, later in that same second: same size, same whole second.
        try RestoreFixture.write("return 41\n", to: source + "/app.py")
        var times = [timespec(tv_sec: second, tv_nsec: 600_000_000), timespec(tv_sec: second, tv_nsec: 600_000_000)]
        #expect(utimensat(AT_FDCWD, source + "/app.py", &times, 0) == 0)

        let result = try RestoreFixture.restore(imagePath, into: source)
        #expect(try String(contentsOfFile: source + "/app.py", encoding: .utf8) == "return 42\n")
        #expect(result.filesRestored == 1, "app.py rewritten")
        #expect(result.filesUnchanged == 1, "old.txt, older than the snapshot's second, left alone")
        // Restored files carry whole seconds: restoring again rewrites nothing.
        let again = try RestoreFixture.restore(imagePath, into: source)
        #expect(again.filesRestored == 0 && again.filesUnchanged == 2)
    }

    @Test("keepExtra leaves entries the snapshot does not have")
    func keepExtra() throws {
        let work = try TemporaryDirectory("restore-keep")
        defer { work.remove() }
        let source = try RestoreFixture.standardTree(in: work, largeFiles: false)
        let imagePath = try RestoreFixture.image(of: source, in: work)
        let target = work.child("t")
        _ = try RestoreFixture.restore(imagePath, into: target)
        try RestoreFixture.write("mine\n", to: target + "/mine.txt")
        try RestoreFixture.write("changed\n", to: target + "/hello.txt")
        var options = RestoreFixture.exact
        options.keepExtra = true
        let result = try RestoreFixture.restore(imagePath, into: target, options: options)
        #expect(result.filesRemoved == 0 && result.filesRestored == 1)
        #expect(FileManager.default.fileExists(atPath: target + "/mine.txt"))
        #expect(try String(contentsOfFile: target + "/hello.txt", encoding: .utf8) == "hello, world\n")
    }
}

import CSystemShims
import Foundation
import Restore
import SquashReader
import Storage
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Partial restores: entries that fail alone are left out, the rest is restored", .serialized)
struct PartialRestoreTests {
    /// `good.txt`, `dir/other.txt`, and `bad.txt` (three gzip blocks, hard-linked as `bad-link`)
    /// with `content` in it; gzip, so that a damaged block fails zlib's own checks.
    private func tree(_ root: String, content: String) throws {
        try FileManager.default.createDirectory(atPath: root + "/dir", withIntermediateDirectories: true)
        try RestoreFixture.write("good \(content)\n", to: root + "/good.txt")
        try RestoreFixture.write("other\n", to: root + "/dir/other.txt")
        let lines = (0..<40_000).map { "\(content) line \($0)\n" }.joined()
        try RestoreFixture.write(lines, to: root + "/bad.txt")
        try FileManager.default.linkItem(atPath: root + "/bad.txt", toPath: root + "/bad-link")
    }

    /// An image of `source` whose first data block of `bad.txt` is overwritten with garbage.
    private func damagedImage(of source: String, in work: TemporaryDirectory, name: String) throws -> String {
        let path = work.child(name)
        try SquashfsTools.mksquashfs(source, to: path, compressor: "gzip")
        let image = try SquashImage.open(try LocalFileSource(path: path))
        let node = try #require(image.entries(of: SquashImage.rootID).first { $0.name == Array("bad.txt".utf8) }?.node)
        let start = try #require(image.dataStart(of: node))
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.seek(toOffset: start + 16)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 256))
        try handle.close()
        return path
    }

    @Test("a file in a damaged block is left out of a new target and listed, with its hard link; the rest is restored")
    func damagedBlockFresh() throws {
        let work = try TemporaryDirectory("restore-partial-fresh")
        defer { work.remove() }
        let source = work.child("src")
        try tree(source, content: "new")
        let image = try damagedImage(of: source, in: work, name: "damaged.sqsh")
        let parent = work.child("parent")

        let result = try RestoreFixture.restore(image, into: parent + "/t")

        #expect(result.isPartial)
        #expect(Set(result.notRestored.map(\.path)) == ["bad.txt", "bad-link"], "\(result.notRestored)")
        #expect(
            result.notRestored.contains {
                if case .unreadable(let reason) = $0.kind { return reason.contains("does not decode") }
                return false
            }, "\(result.notRestored)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent) == ["t"])
        #expect(try Set(FileManager.default.contentsOfDirectory(atPath: parent + "/t")) == ["good.txt", "dir"])
        #expect(try String(contentsOfFile: parent + "/t/good.txt", encoding: .utf8) == "good new\n")
        #expect(try String(contentsOfFile: parent + "/t/dir/other.txt", encoding: .utf8) == "other\n")
    }

    @Test("in place, a file in a damaged block keeps its old version and is listed; other files are updated")
    func damagedBlockInPlace() throws {
        let work = try TemporaryDirectory("restore-partial-inplace")
        defer { work.remove() }
        let old = work.child("old")
        try tree(old, content: "old")
        // Same sizes as the new files: an older mtime is what tells them apart.
        try Shell.check(["find", old, "-type", "f", "-exec", "touch", "-d", "@1000000000", "{}", "+"])
        let new = work.child("new")
        try tree(new, content: "new")
        let target = work.child("target")
        _ = try RestoreFixture.restore(try RestoreFixture.image(of: old, in: work, name: "old.sqsh"), into: target)
        let image = try damagedImage(of: new, in: work, name: "damaged.sqsh")

        let result = try RestoreFixture.restore(image, into: target)

        #expect(Set(result.notRestored.map(\.path)) == ["bad.txt", "bad-link"], "\(result.notRestored)")
        #expect(try String(contentsOfFile: target + "/good.txt", encoding: .utf8) == "good new\n")
        for name in ["bad.txt", "bad-link"] {
            #expect(TreeComparison.contentDifference(old + "/bad.txt", target + "/" + name) == nil, "\(name) is old")
        }
        var first = stat()
        var second = stat()
        #expect(lstat(target + "/bad.txt", &first) == 0 && lstat(target + "/bad-link", &second) == 0)
        #expect(first.st_ino == second.st_ino, "still one file under two names")
        let temporaries = TreeComparison.walk(target).filter { $0.contains(".sqbackup-") }
        #expect(temporaries == [])
    }

    @Test(
        "an xattr the kernel refuses (an invalid security.capability) leaves that file out, listed; the rest is restored"
    )
    func entryThatCannotBeCreated() throws {
        guard geteuid() == 0 else {
            Issue.record("needs root: only root may set security.capability")
            return
        }
        let work = try TemporaryDirectory("restore-partial-xattr")
        defer { work.remove() }
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try RestoreFixture.write("ok\n", to: source + "/ok.txt")
        try RestoreFixture.write("capable\n", to: source + "/cap.bin")
        // A user xattr with a stand-in name as long as "capability"; its table is stored
        // uncompressed, and the key is patched into security.capability with a 2-byte value
        // (a valid one is at least 20 bytes).
        #expect(setxattr(source + "/cap.bin", "user.abcdefghij", "xx", 2, 0) == 0, "user xattrs on \(source)")
        let path = work.child("cap.sqsh")
        try SquashfsTools.mksquashfs(source, to: path, extra: ["-noX"])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let from: [UInt8] = [0, 0, 10, 0] + Array("abcdefghij".utf8)
        let to: [UInt8] = [2, 0, 10, 0] + Array("capability".utf8)
        let hits = (0...(bytes.count - from.count)).filter { bytes[$0..<$0 + from.count].elementsEqual(from) }
        try #require(hits.count == 1, "the xattr key found \(hits.count) times")
        bytes.replaceSubrange(hits[0]..<hits[0] + to.count, with: to)
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let result = try RestoreFixture.restore(path, into: work.child("t"))

        #expect(result.notRestored.map(\.path) == ["cap.bin"], "\(result.rejected)")
        if case .notCreated(let reason)? = result.notRestored.first?.kind {
            #expect(reason.contains("security.capability") && reason.contains("Invalid argument"), "\(reason)")
        } else {
            Issue.record("not reported as not created: \(result.rejected)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.child("t")) == ["ok.txt"])
    }
}

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

@Suite("Restore of untrusted images", .serialized)
struct HostileImageTests {
    /// A snapshot with escaping symlinks and a directory `sub/` that the target will hold as a symlink.
    private func hostileImage(in work: TemporaryDirectory) throws -> (source: String, image: String) {
        let source = work.child("hostile")
        try FileManager.default.createDirectory(atPath: source + "/sub/inner", withIntermediateDirectories: true)
        try RestoreFixture.write("payload\n", to: source + "/sub/payload.txt")
        try RestoreFixture.write("deep\n", to: source + "/sub/inner/deep.txt")
        try RestoreFixture.write("victim snapshot\n", to: source + "/hello.txt")
        try FileManager.default.createSymbolicLink(atPath: source + "/escape", withDestinationPath: "../../etc")
        try FileManager.default.createSymbolicLink(atPath: source + "/abs", withDestinationPath: "/etc")
        try FileManager.default.createDirectory(atPath: source + "/abs-dir", withIntermediateDirectories: true)
        try RestoreFixture.write("x\n", to: source + "/abs-dir/passwd")
        return (source, try RestoreFixture.image(of: source, in: work))
    }

    @Test("symlinks in the target are replaced, never followed; hard links to outside files are not written through")
    func symlinksInTarget() throws {
        let work = try TemporaryDirectory("restore-hostile")
        defer { work.remove() }
        let (source, image) = try hostileImage(in: work)
        let outside = work.child("outside")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try RestoreFixture.write("victim\n", to: outside + "/victim.txt")
        let target = work.child("target")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        // The target already holds traps: a symlink where the snapshot has a directory, one
        // pointing at /etc where it has `abs-dir/`, and a hard link to a file outside.
        try FileManager.default.createSymbolicLink(atPath: target + "/sub", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: target + "/abs-dir", withDestinationPath: outside)
        try FileManager.default.linkItem(atPath: outside + "/victim.txt", toPath: target + "/hello.txt")

        let result = try RestoreFixture.restore(image, into: target)

        #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == ["victim.txt"])
        #expect(try String(contentsOfFile: outside + "/victim.txt", encoding: .utf8) == "victim\n")
        #expect(RestoreFixture.differences(source, target) == [])
        var info = stat()
        #expect(lstat(target + "/sub", &info) == 0 && info.st_mode & S_IFMT == S_IFDIR)
        #expect(TreeComparison.readLink(target + "/escape") == "../../etc")
        #expect(TreeComparison.readLink(target + "/abs") == "/etc")
        #expect(result.filesRemoved == 2, "the two symlinks that stood where directories belong")
    }

    @Test("a fresh restore of escaping symlinks creates them as links and writes nothing beside the target")
    func freshHostile() throws {
        let work = try TemporaryDirectory("restore-hostile-fresh")
        defer { work.remove() }
        let (source, image) = try hostileImage(in: work)
        let parent = work.child("parent")
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        _ = try RestoreFixture.restore(image, into: parent + "/t")
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent) == ["t"])
        #expect(RestoreFixture.differences(source, parent + "/t") == [])
    }

    /// An image whose directory table holds the names `..` (a directory with a file), `.` (a file)
    /// and `a/b` (a directory): no filesystem can hold them, so a tree is built with stand-in names
    /// of the same length, stored with uncompressed metadata, and the names are patched in place.
    private func unsafeNameImage(in work: TemporaryDirectory) throws -> String {
        let source = work.child("unsafe")
        let stand = (dots: "\u{2}\u{2}", dot: "\u{7f}", slash: "a\u{3}b")
        try FileManager.default.createDirectory(atPath: source + "/" + stand.dots, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: source + "/" + stand.slash, withIntermediateDirectories: true)
        try RestoreFixture.write("pwned\n", to: source + "/" + stand.dots + "/pwned.txt")
        try RestoreFixture.write("dot\n", to: source + "/" + stand.dot)
        try RestoreFixture.write("slash\n", to: source + "/" + stand.slash + "/x")
        try RestoreFixture.write("ok\n", to: source + "/ok.txt")
        let path = work.child("unsafe.sqsh")
        try Shell.check(["mksquashfs", source, path, "-noI", "-noD", "-noF", "-noX", "-quiet", "-no-progress"])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // A name is stored after its length - 1 (u16, little endian), so the pattern is unambiguous.
        for (from, to) in [
            ([1, 0, 2, 2], [1, 0, 46, 46]), ([0, 0, 127], [0, 0, 46]), ([2, 0, 97, 3, 98], [2, 0, 97, 47, 98]),
        ] as [([UInt8], [UInt8])] {
            let hits = (0...(bytes.count - from.count)).filter { bytes[$0..<$0 + from.count].elementsEqual(from) }
            try #require(hits.count == 1, "stand-in name \(from) found \(hits.count) times")
            bytes.replaceSubrange(hits[0]..<hits[0] + to.count, with: to)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        // rdsquashfs lists the names as stored (unsquashfs refuses them: "invalid characters in name").
        let listing = try Shell.check(["rdsquashfs", "-l", "/", path])
        let lines = listing.split(separator: "\n")
        for name in [" ..", " a/b", " ."] {
            #expect(lines.contains { $0.hasSuffix(name) }, "\(name) not in \(listing)")
        }
        return path
    }

    @Test("names '..', '.' and 'a/b' in the image are skipped and reported; nothing lands beside the target")
    func unsafeNames() throws {
        let work = try TemporaryDirectory("restore-unsafe-names")
        defer { work.remove() }
        let image = try unsafeNameImage(in: work)
        let parent = work.child("parent")
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)

        let fresh = try RestoreFixture.restore(image, into: parent + "/t")
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent) == ["t"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent + "/t") == ["ok.txt"])
        #expect(fresh.rejected.count == 3, "\(fresh.rejected)")
        #expect(fresh.isPartial && fresh.notRestored == fresh.rejected, "unsafe names are entries left out")
        for name in ["/..:", "/.:", "/a/b:"] {
            #expect(
                fresh.rejected.contains { $0.kind == .unsafeNameSkipped && $0.path.hasPrefix(name) },
                "\(name) in \(fresh.rejected)")
        }

        // In place, over a target that has an `a` directory for `a/b` to land in.
        try FileManager.default.createDirectory(atPath: parent + "/t/a", withIntermediateDirectories: true)
        let inPlace = try RestoreFixture.restore(image, into: parent + "/t")
        #expect(inPlace.rejected.count == 3)
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent) == ["t"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent + "/t") == ["ok.txt"], "extra `a` removed")
        #expect(!FileManager.default.fileExists(atPath: work.child("pwned.txt")))

        let opened = try SquashImage.open(try LocalFileSource(path: image))
        #expect(opened.entries(of: SquashImage.rootID).map { String(decoding: $0.name, as: UTF8.self) } == ["ok.txt"])
    }

    @Test("device nodes are skipped and reported when not allowed; setuid bits are stripped when not preserved")
    func devicesAndSetuid() throws {
        let work = try TemporaryDirectory("restore-devices")
        defer { work.remove() }
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try RestoreFixture.write("#!/bin/sh\n", to: source + "/tool")
        chmod(source + "/tool", 0o6755)
        let canMakeDevices = getuid() == 0
        if canMakeDevices {
            #expect(mknod(source + "/null", S_IFCHR | 0o666, sqb_makedev(1, 3)) == 0)
        }
        let image = try RestoreFixture.image(of: source, in: work)
        var options = RestoreOptions()
        options.allowDevices = false
        options.preserveSetuid = false
        let result = try RestoreFixture.restore(image, into: work.child("t"), options: options)

        var info = stat()
        #expect(lstat(work.child("t") + "/tool", &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o755)
        #expect(
            result.rejected.contains(
                RestoreWarning(path: "tool", kind: .privilegesNotRestored(setuid: true, capability: false))))
        #expect(result.rejected.map(\.description).contains("tool: setuid/setgid bits not restored"))
        #expect(result.isPartial == canMakeDevices, "dropped privileges alone leave no entry out")
        if canMakeDevices {
            #expect(lstat(work.child("t") + "/null", &info) != 0)
            #expect(result.rejected.contains(RestoreWarning(path: "null", kind: .deviceSkipped(major: 1, minor: 3))))
            #expect(result.rejected.map(\.description).contains("null: device node 1:3 skipped"))
            #expect(result.notRestored == [RestoreWarning(path: "null", kind: .deviceSkipped(major: 1, minor: 3))])
            let allowed = try RestoreFixture.restore(image, into: work.child("t2"))
            #expect(lstat(work.child("t2") + "/null", &info) == 0 && info.st_rdev == sqb_makedev(1, 3))
            #expect(allowed.rejected == [], "setuid kept as asked")
        }
    }

    @Test("as root, setuid/setgid bits come back by default, as tar and restic restore them")
    func setuidKeptByDefaultAsRoot() throws {
        guard geteuid() == 0 else {
            Issue.record("needs root: only root restores setuid bits")
            return
        }
        let work = try TemporaryDirectory("restore-setuid-default")
        defer { work.remove() }
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try RestoreFixture.write("#!/bin/sh\n", to: source + "/tool")
        chmod(source + "/tool", 0o6755)
        let image = try RestoreFixture.image(of: source, in: work)
        #expect(RestoreOptions().preserveSetuid)
        let result = try RestoreFixture.restore(image, into: work.child("t"), options: RestoreOptions())
        var info = stat()
        #expect(lstat(work.child("t") + "/tool", &info) == 0 && info.st_mode & 0o7777 == 0o6755)
        #expect(result.rejected == [])
    }
}

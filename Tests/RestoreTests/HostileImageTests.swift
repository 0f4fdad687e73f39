import CShims
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

    @Test("device nodes are skipped and reported when not allowed; setuid bits are stripped by default")
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
        let result = try RestoreFixture.restore(image, into: work.child("t"), options: options)

        var info = stat()
        #expect(lstat(work.child("t") + "/tool", &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o755)
        #expect(result.rejected.contains("tool: setuid/setgid bits not restored"))
        if canMakeDevices {
            #expect(lstat(work.child("t") + "/null", &info) != 0)
            #expect(result.rejected.contains("null: device node 1:3 skipped"))
            let allowed = try RestoreFixture.restore(image, into: work.child("t2"))
            #expect(lstat(work.child("t2") + "/null", &info) == 0 && info.st_rdev == sqb_makedev(1, 3))
            #expect(allowed.rejected == [], "setuid kept as asked")
        }
    }
}

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

/// A fresh build leaves out the owner and xattr calls that would change nothing on the entries
/// it creates; these check it never leaves out one that would.
@Suite("Fresh restore metadata", .serialized)
struct FreshBuildMetadataTests {
    @Test("many small files and hard links across far-apart directories, some read-only, come back identical")
    func manyFilesAndLinks() throws {
        let work = try TemporaryDirectory("restore-many")
        defer { work.remove() }
        let source = work.child("src")
        for top in 0..<6 {
            for sub in 0..<5 {
                let directory = source + "/d\(top)/e\(sub)/f"
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                for file in 0..<40 {
                    let size = (top * 977 + sub * 131 + file * 17) % 3000
                    try Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* (file + 3)) })
                        .write(to: URL(fileURLWithPath: directory + "/s\(file)"))
                }
            }
        }
        for top in 0..<6 {
            for sub in 0..<5 {
                // A further name for a file in another subtree: links are made once all data is written.
                #expect(link(source + "/d\((top + 3) % 6)/e0/f/s1", source + "/d\(top)/e\(sub)/f/link") == 0)
            }
            #expect(chmod(source + "/d\(top)/e4", 0o500) == 0)
        }
        defer { _ = try? Shell.run(["chmod", "-R", "u+w", work.path]) }
        let image = try RestoreFixture.image(of: source, in: work)
        let target = work.child("out")

        let result = try RestoreFixture.restore(image, into: target)

        #expect(RestoreFixture.differences(source, target) == [])
        #expect(result.rejected == [])
        var first = stat()
        var second = stat()
        #expect(lstat(target + "/d3/e0/f/s1", &first) == 0 && lstat(target + "/d0/e2/f/link", &second) == 0)
        #expect(first.st_ino == second.st_ino && first.st_nlink >= 2)
    }

    @Test("a default ACL inherited from the target's parent is not left on restored files")
    func inheritedACLRemoved() throws {
        let work = try TemporaryDirectory("restore-acl")
        defer { work.remove() }
        let source = try RestoreFixture.standardTree(in: work, largeFiles: false)
        let image = try RestoreFixture.image(of: source, in: work)
        let parent = work.child("acl-parent")
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let acl = Self.defaultACL(extraUser: 4242)
        let set = acl.withUnsafeBytes { setxattr(parent, "system.posix_acl_default", $0.baseAddress, $0.count, 0) }
        guard set == 0 else {
            Issue.record("needs a filesystem with POSIX ACLs for \(parent): setxattr failed with errno \(errno)")
            return
        }
        // The filesystem gives new files an access ACL from the default one: the case under test.
        try RestoreFixture.write("probe", to: parent + "/probe")
        #expect(Self.xattrNames(parent + "/probe").contains("system.posix_acl_access"))
        try FileManager.default.removeItem(atPath: parent + "/probe")
        let target = parent + "/restored"

        _ = try RestoreFixture.restore(image, into: target)

        #expect(RestoreFixture.differences(source, target) == [])
        for relative in TreeComparison.walk(target) {
            let names = Self.xattrNames(target + "/" + relative)
            #expect(!names.contains { $0.hasPrefix("system.posix_acl") }, "\(relative) kept \(names)")
        }
    }

    @Test("restored into a setgid directory of another group, every entry still gets the snapshot's group")
    func setgidParentGroup() throws {
        guard getuid() == 0 else {
            Issue.record("needs root: only root gives restored entries the snapshot's owners")
            return
        }
        let work = try TemporaryDirectory("restore-setgid")
        defer { work.remove() }
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source + "/sub", withIntermediateDirectories: true)
        let owners: [(String, uid_t, gid_t)] = [("root.txt", 0, 0), ("user.txt", 1000, 1000), ("group.txt", 0, 4321)]
        for (name, uid, gid) in owners {
            for directory in [source, source + "/sub"] {
                try RestoreFixture.write(name, to: directory + "/" + name)
                #expect(chown(directory + "/" + name, uid, gid) == 0)
            }
        }
        let image = try RestoreFixture.image(of: source, in: work)
        let parent = work.child("shared")
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        #expect(chown(parent, 0, 4321) == 0 && chmod(parent, 0o2775) == 0)
        let target = parent + "/restored"

        _ = try RestoreFixture.restore(image, into: target)

        #expect(RestoreFixture.differences(source, target) == [])
        for (name, uid, gid) in owners {
            for directory in [target, target + "/sub"] {
                var info = stat()
                #expect(lstat(directory + "/" + name, &info) == 0)
                #expect(info.st_uid == uid && info.st_gid == gid, "\(directory)/\(name)")
            }
        }
    }

    /// A default ACL (`user::rwx, user:ID:rwx, group::r-x, mask::rwx, other::r-x`) in the
    /// kernel's xattr form: version 2, then (tag, permissions, id) entries sorted by tag.
    static func defaultACL(extraUser: UInt32) -> [UInt8] {
        func little<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
            withUnsafeBytes(of: value.littleEndian) { Array($0) }
        }
        let undefined = UInt32.max
        let entries: [(UInt16, UInt16, UInt32)] = [
            (0x01, 7, undefined), (0x02, 7, extraUser), (0x04, 5, undefined), (0x10, 7, undefined),
            (0x20, 5, undefined),
        ]
        return little(UInt32(2)) + entries.flatMap { little($0.0) + little($0.1) + little($0.2) }
    }

    static func xattrNames(_ path: String) -> [String] {
        let size = llistxattr(path, nil, 0)
        guard size > 0 else { return [] }
        var buffer = [CChar](repeating: 0, count: size)
        let used = llistxattr(path, &buffer, size)
        guard used > 0 else { return [] }
        return buffer[0..<used].split(separator: 0).map {
            String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}

import Foundation
import ImageDigests
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Damaged bytes in the local store, found by the digests recorded at create: through the mount
/// (the kernel, the daemon, the disk cache), restore and show.
@Suite("verified reads, end to end", .serialized)
struct VerifiedReadTests {
    /// A backup in a local store of a tree whose only full data blocks belong to `big.bin`
    /// (the small files' data lives in fragment blocks).
    struct Fixture {
        let work: TemporaryDirectory
        let source: String
        let id: String
        var environment: [String: String] { ["SQBACKUP_STORE_DIR": work.child("store")] }
        var image: String { work.child("store/backups/\(id)/data.sqsh") }
        var table: String { work.child("store/backups/\(id)/blocks.sha256") }
        var meta: String { work.child("store/backups/\(id)/meta.json") }

        init(_ name: String) throws {
            work = try TemporaryDirectory(name)
            source = work.child("src")
            try FileManager.default.createDirectory(atPath: source + "/docs", withIntermediateDirectories: true)
            try Data(TestTree.pseudoRandomBytes(count: 3 << 20, seed: 7)).write(
                to: URL(fileURLWithPath: source + "/big.bin"))
            for index in 0..<5 {
                try Data("note \(index)\n".utf8).write(to: URL(fileURLWithPath: source + "/docs/n\(index).txt"))
            }
            let created = try SQBackupBinary.run(
                ["create", source, "--json"], environment: ["SQBACKUP_STORE_DIR": work.child("store")])
            try #require(created.status == 0, "\(created.stderr)")
            let backup = try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any]
            id = try #require(backup?["id"] as? String, "\(created.stdout)")
        }

        func run(_ arguments: [String]) throws -> Shell.Output {
            try SQBackupBinary.run(arguments, environment: environment)
        }

        func digests() throws -> BlockDigestTable {
            try BlockDigestTable(decoding: [UInt8](try Data(contentsOf: URL(fileURLWithPath: table))))
        }

        /// Flips one bit in the middle of `entry` of the stored image (or of `file`).
        func flip(_ entry: BlockDigestTable.Entry, in file: String? = nil) throws {
            try flip(at: entry.offset + UInt64(entry.length / 2), in: file ?? image)
        }

        func flip(at offset: UInt64, in file: String) throws {
            let handle = try #require(FileHandle(forUpdatingAtPath: file))
            defer { try? handle.close() }
            try handle.seek(toOffset: offset)
            var byte = try #require(try handle.read(upToCount: 1))
            byte[0] ^= 0x10
            try handle.seek(toOffset: offset)
            try handle.write(contentsOf: byte)
        }

        func mount(_ mountpoint: String, _ extra: [String] = []) throws -> Shell.Output {
            try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
            return try run(["mount", id, mountpoint, "--cache-dir", work.child("cache")] + extra)
        }
    }

    /// Reads a whole file through the kernel: its bytes, or the errno that stopped the read.
    static func read(_ path: String) -> Result<[UInt8], POSIXError> {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return .failure(POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = Foundation.read(fd, &buffer, buffer.count)
            if count < 0 { return .failure(POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)) }
            if count == 0 { return .success(bytes) }
            bytes += buffer[0..<count]
        }
    }

    static func contents(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    static func cachedBlockNames(_ directory: String) -> [String] {
        (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).filter {
            $0.hasSuffix(".blk")
        }
    }

    @Test(
        "a flipped byte in a data block: that file's reads fail with EIO and are logged with the file and offset, other files read, the disk cache never keeps the block"
    )
    func damagedBlockThroughTheMount() throws {
        try #require(
            FuseCapability.missingReason == nil, "FUSE tests cannot run: \(FuseCapability.missingReason ?? "")")
        let fixture = try Fixture("verify-mount")
        defer { fixture.work.remove() }
        let victim = try #require(try fixture.digests().entries.filter { $0.kind == .dataBlock }.dropFirst(4).first)
        try fixture.flip(victim)

        let mountpoint = fixture.work.child("mnt")
        let log = fixture.work.child("mount.log")
        let mounted = try fixture.mount(mountpoint, ["--log-file", log])
        try #require(mounted.status == 0, "\(mounted.stderr)")
        #expect(!mounted.stderr.contains("unverified"), "\(mounted.stderr)")
        #expect(Self.read(mountpoint + "/big.bin").failure?.code == .EIO)
        for index in 0..<5 {
            #expect(
                try Self.read(mountpoint + "/docs/n\(index).txt").get()
                    == Self.contents(fixture.source + "/docs/n\(index).txt"))
        }
        // Blocks before the damaged one are served: a read that stays clear of it succeeds.
        let fd = open(mountpoint + "/big.bin", O_RDONLY)
        var head = [UInt8](repeating: 0, count: 65536)
        #expect(pread(fd, &head, head.count, 0) == head.count)
        close(fd)
        #expect(head == Array(try Self.contents(fixture.source + "/big.bin").prefix(65536)))
        #expect(try SQBackupBinary.run(["unmount", mountpoint]).status == 0)

        let logged = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(logged.contains("/big.bin") && logged.contains("offset \(victim.offset)"), "\(logged)")
        #expect(logged.contains("does not match the digest"), "\(logged)")
        let cached = Self.cachedBlockNames(fixture.work.child("cache"))
        #expect(!cached.isEmpty, "the undamaged blocks that were read are cached")
        #expect(!cached.contains { ($0 as NSString).lastPathComponent.hasPrefix("\(victim.offset)-") }, "\(cached)")

        // --no-verify serves the damaged bytes as they are: what verification prevents.
        let unverified = try fixture.mount(mountpoint, ["--no-verify", "--no-disk-cache"])
        try #require(unverified.status == 0, "\(unverified.stderr)")
        let served = try Self.read(mountpoint + "/big.bin").get()
        let original = try Self.contents(fixture.source + "/big.bin")
        #expect(served.count == 3 << 20 && served != original)
        #expect(try SQBackupBinary.run(["unmount", mountpoint]).status == 0)

        // Repaired, the same cache directory serves the file whole and right.
        try fixture.flip(victim)
        let repaired = try fixture.mount(mountpoint)
        try #require(repaired.status == 0, "\(repaired.stderr)")
        #expect(try Self.read(mountpoint + "/big.bin").get() == (try Self.contents(fixture.source + "/big.bin")))
        #expect(try SQBackupBinary.run(["unmount", mountpoint]).status == 0)
    }

    @Test("restore writes no wrong byte of a damaged file and fails naming it")
    func damagedBlockThroughRestore() throws {
        let fixture = try Fixture("verify-restore")
        defer { fixture.work.remove() }
        let victim = try #require(try fixture.digests().entries.filter { $0.kind == .dataBlock }.last)
        try fixture.flip(victim)
        let target = fixture.work.child("restored")
        let restored = try fixture.run(["restore", fixture.id, "--target", target])
        #expect(restored.status != 0)
        #expect(restored.stderr.contains("big.bin"), "\(restored.stderr)")
        #expect(restored.stderr.contains("does not match the digest"), "\(restored.stderr)")
        let written = try? Self.contents(target + "/big.bin")
        let original = try Self.contents(fixture.source + "/big.bin")
        #expect(written == nil || written == original)

        let unchecked = try fixture.run([
            "restore", fixture.id, "--target", fixture.work.child("unchecked"), "--no-verify",
        ])
        #expect(unchecked.status == 0, "\(unchecked.stderr)")
        #expect(
            try Self.contents(fixture.work.child("unchecked/big.bin"))
                != (try Self.contents(fixture.source + "/big.bin")))
    }

    @Test("damaged metadata fails the mount clearly, before anything is decoded")
    func damagedMetadata() throws {
        try #require(
            FuseCapability.missingReason == nil, "FUSE tests cannot run: \(FuseCapability.missingReason ?? "")")
        let fixture = try Fixture("verify-metadata")
        defer { fixture.work.remove() }
        try fixture.flip(try #require(try fixture.digests().first(.metadata)))
        let mountpoint = fixture.work.child("mnt")
        let mounted = try fixture.mount(mountpoint)
        #expect(mounted.status == 1)
        #expect(
            mounted.stderr.contains("INVALID_IMAGE") && mounted.stderr.contains("metadata tables"), "\(mounted.stderr)")
        #expect(mounted.stderr.contains("damaged"), "\(mounted.stderr)")
        #expect(!MountTable.isMounted(mountpoint))
    }

    @Test("a damaged digest table is reported as such, by mount and restore")
    func damagedTable() throws {
        let fixture = try Fixture("verify-table")
        defer { fixture.work.remove() }
        try fixture.flip(at: 100, in: fixture.table)
        let restored = try fixture.run(["restore", fixture.id, "--target", fixture.work.child("restored")])
        #expect(restored.status == 1)
        #expect(
            restored.stderr.contains("block digest table") && restored.stderr.contains("is damaged"),
            "\(restored.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fixture.work.child("restored")))
        if FuseCapability.missingReason == nil {
            let mounted = try fixture.mount(fixture.work.child("mnt"))
            #expect(mounted.status == 1 && mounted.stderr.contains("block digest table"), "\(mounted.stderr)")
        }
    }

    @Test("a backup without digests mounts and restores as before, and mount, restore and show say it is unverified")
    func backupWithoutDigests() throws {
        try #require(
            FuseCapability.missingReason == nil, "FUSE tests cannot run: \(FuseCapability.missingReason ?? "")")
        let fixture = try Fixture("verify-none")
        defer { fixture.work.remove() }
        try FileManager.default.removeItem(atPath: fixture.table)
        var meta = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture.meta)))
                as? [String: Any])
        #expect(meta.removeValue(forKey: "blockDigests") != nil)
        try JSONSerialization.data(withJSONObject: meta).write(to: URL(fileURLWithPath: fixture.meta))

        let shown = try fixture.run(["show", fixture.id])
        #expect(shown.status == 0 && shown.stdout.contains("unverified"), "\(shown.stdout)")
        let mountpoint = fixture.work.child("mnt")
        let mounted = try fixture.mount(mountpoint)
        try #require(mounted.status == 0, "\(mounted.stderr)")
        #expect(mounted.stderr.contains("unverified"), "\(mounted.stderr)")
        #expect(try Self.read(mountpoint + "/big.bin").get() == (try Self.contents(fixture.source + "/big.bin")))
        #expect(try SQBackupBinary.run(["unmount", mountpoint]).status == 0)
        let restored = try fixture.run(["restore", fixture.id, "--target", fixture.work.child("restored")])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(restored.stderr.contains("unverified"), "\(restored.stderr)")
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

import CSystemShims
import Foundation
import SquashReader
import Storage
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// C's `stderr` stream, found by name (nil: RTLD_DEFAULT): Swift 6 refuses to read the mutable global.
private func standardErrorStream() -> UnsafeMutablePointer<FILE>? {
    dlsym(nil, "stderr")?.load(as: UnsafeMutablePointer<FILE>?.self)
}

/// The shared tree, a work directory (the caller removes it) and an mksquashfs image of the tree in it.
private func imageOfSharedTree(_ label: String, compressor: String = "zstd", blockSize: Int = 131_072) throws -> (
    tree: String, work: TemporaryDirectory, image: String
) {
    let tree = try TestTree.shared()
    let work = try TemporaryDirectory(label)
    let image = work.child("image.sqsh")
    do {
        try SquashfsTools.mksquashfs(tree, to: image, compressor: compressor, blockSize: blockSize)
    } catch {
        work.remove()
        throw error
    }
    return (tree, work, image)
}

@Suite("FUSE mounts through the kernel", .serialized)
struct MountRoundTripTests {
    @Test(
        "the mounted tree equals the source and unsquashfs -lln",
        arguments: [("gzip", 131_072), ("xz", 65_536), ("lz4", 4096), ("zstd", 1_048_576), ("zstd", 16_384)])
    func mountedTreeMatches(compressor: String, blockSize: Int) throws {
        let (tree, work, imagePath) = try imageOfSharedTree("mount", compressor: compressor, blockSize: blockSize)
        defer { work.remove() }
        let mounted = try MountedImage(imagePath: imagePath, mountpoint: work.child("mnt"))
        defer { mounted.unmount() }

        let problems = TreeComparison().differences(expected: tree, actual: mounted.mountpoint)
        #expect(problems.isEmpty, "\(problems.prefix(20))")
        let listing = try UnsquashfsListing.ofImage(imagePath)
        let ours = UnsquashfsListing.ofTree(mounted.mountpoint)
        let missing = Set(listing).subtracting(ours).sorted()
        let extra = Set(ours).subtracting(listing).sorted()
        #expect(
            missing.isEmpty && extra.isEmpty, "unsquashfs only: \(missing.prefix(10)) mount only: \(extra.prefix(10))")
        #expect(listing.count == ours.count)
    }

    /// An unmount used to close the session's fd under libfuse's workers: a worker reading it
    /// next got EBADF (the loop then ended with -EBADF) and perror'd it, and libfuse's loop
    /// pthread_cancel'ed workers at its end; one cancelled inside perror left stderr's lock held,
    /// so that the next write to stderr hung the process (the CI hang). ECONNABORTED, which the
    /// kernel sometimes answers instead of ENODEV here, took the same perror path.
    @Test("unmounting while files are being read ends the loop cleanly and leaves stderr usable")
    func unmountUnderLoad() throws {
        let (_, work, imagePath) = try imageOfSharedTree("mount-busy", compressor: "lz4", blockSize: 4096)
        defer { work.remove() }
        for round in 0..<12 {
            let mounted = try MountedImage(imagePath: imagePath, mountpoint: work.child("mnt"))
            let stop = Atomic<Bool>(false)
            let readers = DispatchGroup()
            for reader in 0..<3 {
                DispatchQueue.global().async(group: readers) {
                    var buffer = [UInt8](repeating: 0, count: 65_536)
                    var index = reader
                    while !stop.load(ordering: .relaxed) {
                        let fd = open(mounted.path(String(format: "text/file-%03d.txt", index % 60)), O_RDONLY)
                        if fd < 0 { break }  // detached: the path is the empty directory again
                        while read(fd, &buffer, buffer.count) > 0 {}
                        close(fd)
                        index += 3
                    }
                }
            }
            usleep(20_000)
            let status = mounted.unmount()
            stop.store(true, ordering: .relaxed)
            #expect(readers.wait(timeout: .now() + 20) == .success, "round \(round): readers stuck")
            #expect(status == 0, "round \(round): the loop ended with \(status.map(String.init) ?? "no status")")
            // Other tests print meanwhile and hold the lock for a moment; a leaked lock stays held.
            let stream = try #require(standardErrorStream())
            var lockFree = false
            for _ in 0..<100 where !lockFree {
                lockFree = ftrylockfile(stream) == 0
                if lockFree { funlockfile(stream) } else { usleep(10_000) }
            }
            #expect(lockFree, "round \(round): stderr's lock stays held")
        }
    }

    @Test("a mount detached with a file open serves it to the end; unmounting again spares a new mount there")
    func detachOnlyOurs() throws {
        let (_, work, imagePath) = try imageOfSharedTree("mount-detach")
        defer { work.remove() }
        let mountpoint = work.child("mnt")
        func mounted() -> Bool { MountTable.isMounted(mountpoint) }
        let first = try MountedImage(imagePath: imagePath, mountpoint: mountpoint)
        let fd = open(first.path("hello.txt"), O_RDONLY)
        try #require(fd >= 0)
        first.detach()
        #expect(!mounted())

        let second = try MountedImage(imagePath: imagePath, mountpoint: mountpoint)
        first.detach()  // a SIGTERM to the first daemon, say: the path now belongs to the second
        #expect(mounted(), "the first mount's second unmount detached the new mount")
        #expect((try? String(contentsOfFile: second.path("hello.txt"), encoding: .utf8)) == "hello, world\n")

        var buffer = [UInt8](repeating: 0, count: 64)
        #expect(pread(fd, &buffer, 64, 0) == 13, "the detached mount still serves its open file")
        close(fd)
        #expect(first.unmount() == 0, "the first loop ends once its last file is closed")
        #expect(mounted())
        #expect(second.unmount() == 0)
        #expect(!mounted())
    }

    /// The first readdirplus chunk of a directory sends files without attributes unless a walk
    /// has been stat-ing: their types must still be right, for walks that go by d_type.
    @Test("find by type on a fresh mount, then ls -l of the same tree, match the source")
    func typesWithoutAttributes() throws {
        let (tree, work, imagePath) = try imageOfSharedTree("mount-types")
        defer { work.remove() }
        let mounted = try MountedImage(imagePath: imagePath, mountpoint: work.child("mnt"))
        defer { mounted.unmount() }
        for type in ["f", "d", "l", "p", "s", "c", "b"] {
            let ours = try Shell.check(["sh", "-c", "cd '\(mounted.mountpoint)' && find . -type \(type) | sort"])
            let source = try Shell.check(["sh", "-c", "cd '\(tree)' && find . -type \(type) | sort"])
            #expect(ours == source, "find -type \(type)")
        }
        // Then stat every entry (directory sizes differ between filesystems; files' do not).
        let listing = { (root: String) in
            try Shell.check([
                "sh", "-c",
                "cd '\(root)' && find . \\( -type d -printf '%p %m %U:%G\\n' \\) -o "
                    + "-printf '%p %y %m %U:%G %s %Ts\\n' | sort",
            ])
        }
        #expect(try listing(mounted.mountpoint) == (try listing(tree)))
    }

    @Test("writes fail with EROFS and every entry keeps its inode number")
    func readOnlyAndStableInodes() throws {
        let (_, work, imagePath) = try imageOfSharedTree("mount-ro")
        defer { work.remove() }
        let mounted = try MountedImage(imagePath: imagePath, mountpoint: work.child("mnt"))
        defer { mounted.unmount() }

        #expect(open(mounted.path("hello.txt"), O_WRONLY) == -1 && errno == EROFS)
        #expect(open(mounted.path("new-file"), O_CREAT | O_WRONLY, 0o644) == -1 && errno == EROFS)
        #expect(mkdir(mounted.path("new-dir"), 0o755) == -1 && errno == EROFS)
        #expect(unlink(mounted.path("hello.txt")) == -1 && errno == EROFS)
        #expect(chmod(mounted.path("hello.txt"), 0o777) == -1 && errno == EROFS)
        #expect(TestTree.setXattrResult(mounted.path("hello.txt")) == EROFS)

        var first = stat()
        var second = stat()
        var link = stat()
        #expect(lstat(mounted.path("hard/original"), &first) == 0)
        #expect(lstat(mounted.path("hard/second"), &link) == 0)
        #expect(first.st_ino == link.st_ino)
        // Drop the kernel's dentry cache; numbers must come back the same.
        _ = try? Shell.run(["sh", "-c", "echo 2 > /proc/sys/vm/drop_caches"])
        #expect(lstat(mounted.path("hard/original"), &second) == 0)
        #expect(first.st_ino == second.st_ino)

        var root = statvfs()
        #expect(statvfs(mounted.mountpoint, &root) == 0)
        #expect(root.f_flag & UInt(ST_RDONLY) != 0)
    }

    @Test("sixteen parallel readers through the kernel get every byte right")
    func parallelKernelReads() throws {
        let (tree, work, imagePath) = try imageOfSharedTree("mount-parallel", compressor: "zstd", blockSize: 65_536)
        defer { work.remove() }
        var options = ReaderOptions()
        options.cacheBytes = 2 << 20
        let mounted = try MountedImage(imagePath: imagePath, mountpoint: work.child("mnt"), options: options)
        defer { mounted.unmount() }
        let files = ["binary/random-3m.bin", "binary/compressible-5m.txt", "sparse.img", "text/file-059.txt"]
        let expected = try files.map { try [UInt8](Data(contentsOf: URL(fileURLWithPath: tree + "/" + $0))) }
        let wrong = ConcurrentResults<Int>(count: 16)
        DispatchQueue.concurrentPerform(iterations: 16) { worker in
            var state = UInt64(worker) &* 0x9E37_79B9_7F4A_7C15 &+ 1
            func next() -> Int {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                return Int(state % UInt64(Int32.max))
            }
            var failures = 0
            let descriptors = files.map { open(mounted.path($0), O_RDONLY) }
            defer { for fd in descriptors { close(fd) } }
            var buffer = [UInt8](repeating: 0, count: 200_000)
            for _ in 0..<400 {
                let which = next() % files.count
                let size = expected[which].count
                let offset = next() % (size + 1)
                let length = next() % buffer.count + 1
                let got = pread(descriptors[which], &buffer, length, off_t(offset))
                let want = Array(expected[which][offset..<min(size, offset + length)])
                if got != want.count || Array(buffer[0..<max(got, 0)]) != want { failures += 1 }
            }
            wrong.set(worker, .success(failures))
        }
        #expect(try wrong.values().reduce(0, +) == 0)
    }

    @Test("an image without xattrs answers xattr queries with ENOTSUP, so the kernel stops asking")
    func noXattrs() throws {
        let work = try TemporaryDirectory("mount-noxattr")
        defer { work.remove() }
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source + "/d", withIntermediateDirectories: true)
        try Data("plain\n".utf8).write(to: URL(fileURLWithPath: source + "/d/plain.txt"))
        let imagePath = work.child("image.sqsh")
        try SquashfsTools.mksquashfs(source, to: imagePath, extra: ["-no-xattrs"])
        let mounted = try MountedImage(imagePath: imagePath, mountpoint: work.child("mnt"))
        defer { mounted.unmount() }
        #expect(!mounted.image.hasExtendedAttributes)
        var value = [UInt8](repeating: 0, count: 64)
        #expect(lgetxattr(mounted.path("d/plain.txt"), "user.x", &value, 64) == -1 && errno == ENOTSUP)
        #expect(TreeComparison.xattrs(mounted.path("d/plain.txt")).isEmpty)
        #expect(try Shell.run(["ls", "-lR", mounted.mountpoint]).succeeded)
        #expect(TreeComparison().differences(expected: source, actual: mounted.mountpoint).isEmpty)
    }

    @Test("overlayfs's own xattrs in an image are hidden (a mount may be a lazy root's lower layer)")
    func overlayXattrsHidden() throws {
        let work = try TemporaryDirectory("mount-overlay-xattrs")
        defer { work.remove() }
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source + "/d", withIntermediateDirectories: true)
        for (name, value) in [("trusted.overlay.opaque", "y"), ("user.overlay.redirect", "/x"), ("user.kept", "1")] {
            #expect(lsetxattr(source + "/d", name, value, value.utf8.count, 0) == 0, "\(name): \(errno)")
        }
        let imagePath = work.child("image.sqsh")
        try SquashfsTools.mksquashfs(source, to: imagePath)
        // The image really carries them (read without the mount).
        #expect(try Shell.check(["rdsquashfs", "-x", "/d", imagePath]).contains("trusted.overlay.opaque"))
        let mounted = try MountedImage(imagePath: imagePath, mountpoint: work.child("mnt"))
        defer { mounted.unmount() }
        #expect(Set(TreeComparison.xattrs(mounted.path("d")).keys) == ["user.kept"])
        var value = [UInt8](repeating: 0, count: 16)
        #expect(lgetxattr(mounted.path("d"), "trusted.overlay.opaque", &value, 16) == -1 && errno == ENODATA)
    }

    @Test("files over 4 GiB and sparse holes read right at every offset")
    func hugeSparseFile() throws {
        let work = try TemporaryDirectory("mount-huge")
        defer { work.remove() }
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        let fd = open(source + "/huge.bin", O_CREAT | O_WRONLY, 0o644)
        let tail = TestTree.pseudoRandomBytes(count: 300_000, seed: 99)
        let offsets: [Int] = [0, 2_147_483_000, 4_294_967_000, 5 * 1_073_741_824]
        for offset in offsets { _ = tail.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) } }
        close(fd)
        let imagePath = work.child("image.sqsh")
        try SquashfsTools.mksquashfs(source, to: imagePath)
        let mounted = try MountedImage(imagePath: imagePath, mountpoint: work.child("mnt"))
        defer { mounted.unmount() }
        var info = stat()
        #expect(stat(mounted.path("huge.bin"), &info) == 0)
        #expect(info.st_size == off_t(5 * 1_073_741_824 + 300_000))
        let reader = open(mounted.path("huge.bin"), O_RDONLY)
        defer { close(reader) }
        var buffer = [UInt8](repeating: 1, count: 300_000)
        for offset in offsets {
            #expect(pread(reader, &buffer, buffer.count, off_t(offset)) == buffer.count)
            #expect(buffer == tail, "data at \(offset)")
        }
        // Inside a hole: zeros.
        #expect(pread(reader, &buffer, 4096, off_t(3_000_000_000)) == 4096)
        #expect(buffer[0..<4096].allSatisfy { $0 == 0 })
    }
}

import Foundation
import SquashWriter
import Synchronization
import TestSupport
import Testing

/// Inputs the builder must survive or refuse clearly.
@Suite struct BadInputTests {
    private func makeSource(_ work: TemporaryDirectory) throws -> String {
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        return source
    }

    private func write(_ bytes: [UInt8], _ path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func missingDirectoryIsNamed() throws {
        let error = #expect(throws: BuildError.self) {
            try ImageBuilder().build(directory: "/nonexistent/sqbackup-test", into: MemoryImageSink())
        }
        #expect(error == .directoryNotFound(path: "/nonexistent/sqbackup-test"))
        #expect(error?.description.contains("directory not found") == true)
        #expect(throws: BuildError.notADirectory(path: "/etc/hostname")) {
            try ImageBuilder().build(directory: "/etc/hostname", into: MemoryImageSink())
        }
    }

    /// Files changed between the scan and the read: warnings, and the image holds what was read.
    @Test func filesChangedAfterTheScanAreStoredConsistently() throws {
        let work = try TemporaryDirectory("writer-change")
        defer { work.remove() }
        let source = try makeSource(work)
        try write(Array("first\n".utf8), source + "/a-first")
        try write(TestTree.pseudoRandomBytes(count: 100_000, seed: 1), source + "/b-grows")
        try write(TestTree.pseudoRandomBytes(count: 300_000, seed: 2), source + "/c-shrinks")
        let changed = Atomic<Bool>(false)
        var options = BuildOptions()
        // Polled after each file: after "a-first", change the two files not read yet.
        options.shouldCancel = {
            if !changed.exchange(true, ordering: .relaxed) {
                let grow = FileHandle(forWritingAtPath: source + "/b-grows")!
                grow.seekToEndOfFile()
                grow.write(Data(TestTree.pseudoRandomBytes(count: 50_000, seed: 3)))
                try? grow.close()
                truncate(source + "/c-shrinks", 1000)
            }
            return false
        }
        let image = work.child("img")
        let result = try ImageBuilder(options: options).build(directory: source, into: FileImageSink(path: image))
        let changedPaths = result.warnings.filter { $0.kind == .changedWhileReading }.map(\.path).sorted()
        #expect(changedPaths == [source + "/b-grows", source + "/c-shrinks"])
        let extracted = work.child("out")
        try Shell.check(["unsquashfs", "-no-progress", "-d", extracted, image])
        #expect(TreeComparison().differences(expected: source, actual: extracted).isEmpty)
    }

    /// A file rewritten over and over during the build: every state is a prefix of `content`, so
    /// whatever the image holds must be one, and the image must stay valid.
    @Test func fileRewrittenDuringTheBuildStaysAPrefix() throws {
        let work = try TemporaryDirectory("writer-race")
        defer { work.remove() }
        let source = try makeSource(work)
        let content = TestTree.pseudoRandomBytes(count: 8 * 1024 * 1024, seed: 77)
        try write(content, source + "/busy")
        for index in 0..<20 { try write(Array("filler \(index)\n".utf8), source + "/z-\(index)") }
        let stop = Atomic<Bool>(false)
        let done = DispatchSemaphore(value: 0)
        let path = source + "/busy"
        DispatchQueue.global().async {
            while !stop.load(ordering: .relaxed) {
                let fd = open(path, O_WRONLY | O_TRUNC)
                var offset = 0
                while offset < content.count && !stop.load(ordering: .relaxed) {
                    let n = content[offset..<min(content.count, offset + 65_536)].withUnsafeBytes {
                        pwrite(fd, $0.baseAddress, $0.count, off_t(offset))
                    }
                    offset += max(n, 0)
                }
                close(fd)
            }
            done.signal()
        }
        let image = work.child("img")
        let result: BuildResult
        do {
            defer {
                stop.store(true, ordering: .relaxed)
                done.wait()
            }
            result = try Fixtures.build(source, to: image)
        }
        let extracted = work.child("out")
        try Shell.check(["unsquashfs", "-no-progress", "-d", extracted, image])
        let stored = Array(try Data(contentsOf: URL(fileURLWithPath: extracted + "/busy")))
        #expect(stored == Array(content.prefix(stored.count)))
        // A partial file means the build caught a rewrite in progress; that is a change it must
        // report, unless it saw the file empty at the scan and at the open alike (just truncated):
        // then nothing changed while it looked, and an empty file is a consistent version.
        if stored.count != content.count && !stored.isEmpty {
            #expect(result.warnings.contains { $0.kind == .changedWhileReading }, "\(stored.count) bytes stored")
        }
    }

    /// Root can read anything on a local filesystem, so the unreadable file lives on a FUSE mount
    /// (squashfuse of an image with a corrupted data block), where read() really fails with EIO.
    @Test func unreadableFileFailsOrIsSkipped() throws {
        let work = try TemporaryDirectory("writer-eio")
        defer { work.remove() }
        let source = try makeSource(work)
        // Random letters compress, so the blocks are stored compressed and can fail to decompress.
        let letters = TestTree.pseudoRandomBytes(count: 512 * 1024, seed: 8).map { $0 % 26 + 97 }
        try write(letters, source + "/bad")
        try write(Array("fine\n".utf8), source + "/good.txt")
        let image = work.child("broken.sqfs")
        try Fixtures.build(source, to: image)
        // "bad" is first in data order: its first zstd frame starts right after the superblock (96 bytes)
        // and the compressor options (6); breaking the frame header makes decompression fail.
        let handle = FileHandle(forUpdatingAtPath: image)!
        handle.seek(toFileOffset: 102)
        handle.write(Data(repeating: 0xA5, count: 64))
        try handle.close()
        let mountPoint = work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try Fixtures.squashfuse(image, at: mountPoint)
        defer { Fixtures.unmount(mountPoint) }

        let error = #expect(throws: BuildError.self) {
            try ImageBuilder().build(directory: mountPoint, into: MemoryImageSink())
        }
        guard case .unreadable(let path, _) = error else {
            Issue.record("expected .unreadable, got \(String(describing: error))")
            return
        }
        #expect(path == mountPoint + "/bad")
        #expect(error?.description.contains("skip unreadable") == true)

        var options = BuildOptions()
        options.skipUnreadable = true
        let output = work.child("skipped.sqfs")
        let result = try ImageBuilder(options: options).build(directory: mountPoint, into: FileImageSink(path: output))
        #expect(result.warnings.map(\.kind) == [.skippedUnreadable])
        #expect(result.files == 1)
        let listing = try Fixtures.listing(output)
        #expect(listing.contains { $0.hasSuffix("ROOT/good.txt") })
        #expect(!listing.contains { $0.hasSuffix("ROOT/bad") })
        let extracted = work.child("out")
        try Shell.check(["unsquashfs", "-no-progress", "-d", extracted, output])
        #expect(try String(contentsOfFile: extracted + "/good.txt", encoding: .utf8) == "fine\n")
    }

    @Test func timestampsOutsideSquashfsRangeAreClampedWithAWarning() throws {
        let work = try TemporaryDirectory("writer-time")
        defer { work.remove() }
        let source = try makeSource(work)
        try write([1], source + "/before-1970")
        try write([2], source + "/after-2106")
        try TestTree.setTime(source + "/before-1970", -86_400)
        try TestTree.setTime(source + "/after-2106", 5_000_000_000)
        let image = work.child("img")
        let result = try Fixtures.build(source, to: image)
        #expect(result.warnings.filter { $0.kind == .timestampClamped }.count == 2)
        let listing = try Shell.check(["unsquashfs", "-lln", "-UTC", image])
        #expect(listing.contains("1970-01-01 00:00 squashfs-root/before-1970"))
        #expect(listing.contains("2106-02-07 06:28 squashfs-root/after-2106"))
    }

    @Test func moreThan65536OwnersAreRefused() throws {
        let work = try TemporaryDirectory("writer-ids")
        defer { work.remove() }
        let source = try makeSource(work)
        for index in 0..<32_769 {
            let path = source + "/f\(index)"
            let fd = open(path, O_CREAT | O_WRONLY, 0o644)
            close(fd)
            lchown(path, uid_t(10_000 + index), gid_t(100_000 + index))
        }
        let error = #expect(throws: BuildError.self) {
            try ImageBuilder().build(directory: source, into: MemoryImageSink())
        }
        guard case .tooManyIDs(let count, _) = error else {
            Issue.record("expected .tooManyIDs, got \(String(describing: error))")
            return
        }
        #expect(count == 65_539)  // 32,769 uids + 32,769 gids + root's 0
    }

    @Test func excludesLeaveEntriesOut() throws {
        let work = try TemporaryDirectory("writer-excl")
        defer { work.remove() }
        let source = try makeSource(work)
        try FileManager.default.createDirectory(atPath: source + "/cache/x", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: source + "/src/obj", withIntermediateDirectories: true)
        try write([1], source + "/cache/x/data")
        try write([2], source + "/src/main.c")
        try write([3], source + "/src/main.o")
        try write([4], source + "/src/obj/lib.o")
        try write([5], source + "/notes.txt")
        try write([6], source + "/src/obj/keep.h")
        var options = try BuildOptions(excludes: ["*.o", "cache/**", "/notes.txt"])
        options.threads = 1
        let image = work.child("img")
        let result = try ImageBuilder(options: options).build(directory: source, into: FileImageSink(path: image))
        let names = try Fixtures.listing(image).map { String($0.split(separator: " ").last!) }.sorted()
        #expect(
            names == ["ROOT", "ROOT/cache", "ROOT/src", "ROOT/src/main.c", "ROOT/src/obj", "ROOT/src/obj/keep.h"])
        #expect(result.files == 2)
    }

    @Test func cancellationStopsTheBuild() throws {
        let work = try TemporaryDirectory("writer-cancel")
        defer { work.remove() }
        let source = try makeSource(work)
        for index in 0..<5 { try write([UInt8(index)], source + "/f\(index)") }
        var options = BuildOptions()
        options.shouldCancel = { true }
        #expect(throws: BuildError.cancelled) {
            try ImageBuilder(options: options).build(directory: source, into: MemoryImageSink())
        }
    }

    /// A filesystem mounted inside the tree is not entered by default; its mount point stays, empty.
    @Test func mountPointsAreNotCrossedByDefault() throws {
        let work = try TemporaryDirectory("writer-mnt")
        defer { work.remove() }
        let source = try makeSource(work)
        try FileManager.default.createDirectory(atPath: source + "/inner", withIntermediateDirectories: true)
        try write([1], source + "/outer-file")
        try Shell.check(["mount", "-t", "tmpfs", "-o", "size=1m", "sqbackup-test", source + "/inner"])
        defer { _ = try? Shell.run(["umount", source + "/inner"]) }
        try write([2], source + "/inner/inside-file")
        let image = work.child("img")
        let result = try Fixtures.build(source, to: image)
        #expect(result.warnings.map(\.kind) == [.mountPointNotCrossed])
        let names = try Fixtures.listing(image).map { String($0.split(separator: " ").last!) }.sorted()
        #expect(names == ["ROOT", "ROOT/inner", "ROOT/outer-file"])
        let crossing = try Fixtures.build(source, to: work.child("img2")) { $0.oneFileSystem = false }
        #expect(crossing.files == 2)
    }

    @Test func invalidOptionsAreRefused() {
        var options = BuildOptions()
        options.blockSize = 3000
        #expect(throws: BuildError.self) {
            try ImageBuilder(options: options).build(directory: "/", into: MemoryImageSink())
        }
        options = BuildOptions()
        options.level = 30
        #expect(throws: BuildError.self) {
            try ImageBuilder(options: options).build(directory: "/", into: MemoryImageSink())
        }
    }

    /// Names are bytes: one that isn't UTF-8 must come back unchanged.
    @Test func nonUTF8NamesRoundTrip() throws {
        let work = try TemporaryDirectory("writer-bytes")
        defer { work.remove() }
        let source = try makeSource(work)
        let name: [UInt8] = [0x6C, 0xFF, 0xFE, 0x2E, 0x62, 0x69, 0x6E]  // "l\xff\xfe.bin"
        let path = Array(source.utf8) + [UInt8(ascii: "/")] + name + [0]
        let fd = path.withUnsafeBufferPointer {
            $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o600) }
        }
        #expect(Glibc.write(fd, "raw", 3) == 3)
        close(fd)
        let image = work.child("img")
        try Fixtures.build(source, to: image)
        let extracted = work.child("out")
        try Shell.check(["unsquashfs", "-no-progress", "-d", extracted, image])
        let listing = try Shell.check([
            "python3", "-c",
            "import os,sys; print([(n.hex(), open(os.path.join(sys.argv[1].encode(), n),'rb').read()) "
                + "for n in os.listdir(sys.argv[1].encode())])", extracted,
        ])
        #expect(listing.trimmingCharacters(in: .whitespacesAndNewlines) == "[('6cfffe2e62696e', b'raw')]")
    }

    @Test func progressReachesTheEnd() throws {
        let work = try TemporaryDirectory("writer-progress")
        defer { work.remove() }
        let source = try makeSource(work)
        for index in 0..<200 { try write([UInt8](repeating: UInt8(index), count: index * 100), source + "/f\(index)") }
        let reports = Mutex<[BuildProgress]>([])
        var options = BuildOptions()
        options.progress = { progress in reports.withLock { $0.append(progress) } }
        let sink = MemoryImageSink()
        let result = try ImageBuilder(options: options).build(directory: source, into: sink)
        let seen = reports.withLock { $0 }
        #expect(seen.first?.phase == .scanning)
        #expect(seen.contains { $0.phase == .writingData && $0.filesDone > 0 && $0.filesDone < 200 })
        let last = try #require(seen.last)
        #expect(last.phase == .finished)
        #expect(last.filesDone == 200 && last.filesTotal == 200)
        #expect(last.bytesRead == last.bytesTotal)
        #expect(last.imageBytesWritten == result.imageSize && sink.bytesWritten == result.imageSize)
    }
}

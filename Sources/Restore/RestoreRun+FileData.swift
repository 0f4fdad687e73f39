import Foundation
import SquashReader
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

extension RestoreRun {
    /// Copies every planned file, sorted by where its data lies in the image, on `workers` threads:
    /// together they read the image front to back in large requests instead of seeking around it.
    /// A file whose data can't be read is left out and reported; the others go on.
    func copyFiles(_ plan: RestorePlan) throws {
        let copies = plan.copies.sorted { ($0.order, $0.node) < ($1.order, $1.node) }
        guard !copies.isEmpty else { return }
        let scanAhead = ScanAhead(image: image, copies: copies, options: options)
        let next = Atomic<Int>(0)
        let done = DispatchGroup()
        for _ in 0..<max(1, min(options.workers, copies.count)) {
            done.enter()
            let worker = Thread { [self] in
                var cached: (index: Int, handle: DirectoryHandle)?
                while !stopping.load(ordering: .relaxed) {
                    let position = next.add(1, ordering: .relaxed).oldValue
                    guard position < copies.count else { break }
                    scanAhead.advance(to: position)
                    let copy = copies[position]
                    do {
                        try checkStop()
                        if cached?.index != copy.directory {
                            cached = (copy.directory, try open(copy.directory, plan))
                        }
                        do {
                            try writeFile(copy, in: cached!.handle)
                        } catch {
                            try skip(copy.node, path: cached!.handle.display(copy.name), after: error)
                        }
                        filesCopied.add(1, ordering: .relaxed)
                    } catch {
                        fail(error)
                    }
                }
                done.leave()
            }
            worker.stackSize = 1 << 20
            worker.start()
        }
        done.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }

    private func fail(_ error: any Error) {
        failure.withLock { if $0 == nil { $0 = error } }
        stopping.store(true, ordering: .relaxed)
    }

    /// Opens directory `index` of the plan from the root, one no-follow step at a time.
    func open(_ index: Int, _ plan: RestorePlan) throws -> DirectoryHandle {
        var handle = root
        for name in plan.components(of: index) { handle = try handle.child(name) }
        return handle
    }

    /// Writes one file: size first (holes stay holes), then only the stored ranges, metadata,
    /// rename. On any failure the file is removed (fresh) or its temporary is (in place: the old
    /// version stays), so it is never left half-written under its name.
    private func writeFile(_ copy: RestorePlan.FileCopy, in handle: DirectoryHandle) throws {
        guard let attributes = image.attributes(of: copy.node) else { return }
        let path = handle.display(copy.name)
        var fd: Int32 = -1
        let staging: [UInt8]
        if inPlace {
            staging = try createUnique(in: handle, copy.name) { candidate in
                fd = DirectoryHandle.withName(candidate) {
                    openat(handle.fd, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
                }
                return fd
            }
        } else {
            // A fresh build created the empty file during the walk.
            staging = copy.name
            fd = DirectoryHandle.withName(copy.name) { openat(handle.fd, $0, O_WRONLY | O_NOFOLLOW | O_CLOEXEC) }
            guard fd >= 0 else {
                let code = errno
                _ = DirectoryHandle.withName(staging) { unlinkat(handle.fd, $0, 0) }
                throw RestoreError.system("open", path, code)
            }
        }
        var finished = false
        defer {
            if fd >= 0 { close(fd) }
            if !finished { _ = DirectoryHandle.withName(staging) { unlinkat(handle.fd, $0, 0) } }
        }
        if attributes.size > 0, ftruncate(fd, off_t(attributes.size)) != 0 {
            throw RestoreError.system("truncate", path)
        }
        let reader = image.openFile(copy.node)
        for range in image.dataRanges(of: copy.node) where !range.isHole {
            var offset = range.offset
            let end = range.offset + range.length
            while offset < end {
                try checkStop()
                let wanted = Int(min(UInt64(options.chunkBytes), end - offset))
                // Written slice by slice straight from the cached blocks, never joined into one buffer.
                let pieces = try reader.readPieces(offset: offset, length: wanted)
                let got = pieces.reduce(0) { $0 + $1.count }
                guard got == wanted else { throw ShortRead(got: got, wanted: wanted, offset: offset) }
                var position = offset
                for piece in pieces {
                    try Self.writeAll(fd, piece, at: position, path: path)
                    position += UInt64(piece.count)
                }
                bytesWritten.add(wanted, ordering: .relaxed)
                offset += UInt64(wanted)
            }
        }
        try metadata.apply(fd: fd, copy.node, attributes, path: path)
        let result = close(fd)
        fd = -1
        guard result == 0 else { throw RestoreError.system("close", path) }
        if staging != copy.name {
            try moveIntoPlace(staging, copy.name, in: handle)
        } else {
            try checkStop()
        }
        finished = true
        written.add(1, ordering: .relaxed)
    }

    private static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>, at offset: UInt64, path: String) throws {
        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let count = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset) + off_t(done))
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { throw RestoreError.system("write", path) }
                done += count
            }
        }
    }
}

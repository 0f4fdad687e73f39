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
                var directories = DirectoryChain(root: root)
                while !stopping.load(ordering: .relaxed) {
                    let position = next.add(1, ordering: .relaxed).oldValue
                    guard position < copies.count else { break }
                    scanAhead.advance(to: position)
                    let copy = copies[position]
                    do {
                        try checkStop()
                        let handle = try directories.open(copy.directory, plan)
                        do {
                            try writeFile(copy, in: handle)
                        } catch {
                            try skip(copy.node, path: handle.display(copy.name), after: error)
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
        let ranges = image.dataRanges(of: copy.node)
        // The file is new and empty: writes give it its size, except when it ends in a hole.
        if ranges.last?.isHole == true, ftruncate(fd, off_t(attributes.size)) != 0 {
            throw RestoreError.system("truncate", path)
        }
        let reader = image.openFile(copy.node)
        for range in ranges where !range.isHole {
            var offset = range.offset
            let end = range.offset + range.length
            while offset < end {
                try checkStop()
                let wanted = Int(min(UInt64(options.chunkBytes), end - offset))
                // Written straight from the cached blocks in one gathered write, never joined into one buffer.
                let pieces = try reader.readPieces(offset: offset, length: wanted)
                let got = pieces.reduce(0) { $0 + $1.count }
                guard got == wanted else { throw ShortRead(got: got, wanted: wanted, offset: offset) }
                try GatheredWrite.write(fd, pieces, at: offset, path: path)
                bytesWritten.add(wanted, ordering: .relaxed)
                offset += UInt64(wanted)
            }
        }
        try metadata.apply(fd: fd, copy.node, attributes, path: path, created: createdEntries)
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
}

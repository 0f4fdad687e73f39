import Foundation
import SquashReader
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One restore of an image into an open root directory, in phases: walk the snapshot (create
/// directories, symlinks and special files, remove extras, plan the file copies), copy file data
/// in image order on a pool of threads, make hard links, then set directory metadata bottom-up.
final class RestoreRun: Sendable {
    let image: SquashImage
    let options: RestoreOptions
    let metadata: MetadataWriter
    let root: DirectoryHandle
    /// In place, every entry is written under a temporary name and renamed over the old one, so
    /// each file is either old or new, never torn. A fresh build (in a hidden sibling) needs no such care.
    let inPlace: Bool

    let written = Atomic<Int>(0)
    let unchanged = Atomic<Int>(0)
    let removed = Atomic<Int>(0)
    let bytesWritten = Atomic<Int>(0)
    private let rejections = Mutex<[RestoreWarning]>([])
    private let failure = Mutex<(any Error)?>(nil)
    private let stopping = Atomic<Bool>(false)

    init(image: SquashImage, options: RestoreOptions, root: DirectoryHandle, inPlace: Bool) {
        self.image = image
        self.options = options
        self.metadata = MetadataWriter(image: image, options: options)
        self.root = root
        self.inPlace = inPlace
    }

    var rejected: [RestoreWarning] { rejections.withLock { $0 } }

    func reject(_ warning: RestoreWarning) { rejections.withLock { $0.append(warning) } }

    func run() throws {
        var plan = RestorePlan()
        plan.directories.append(.init(parent: nil, name: [], node: SquashImage.rootID))
        var primaries = [NodeID: (directory: Int, name: [UInt8])]()
        try walk(SquashImage.rootID, handle: root, index: 0, isNew: !inPlace, plan: &plan, primaries: &primaries)
        try copyFiles(plan)
        try makeLinks(plan)
        try finishDirectories(plan)
    }

    // MARK: - Walk

    private func walk(
        _ node: NodeID, handle: DirectoryHandle, index: Int, isNew: Bool, plan: inout RestorePlan,
        primaries: inout [NodeID: (directory: Int, name: [UInt8])]
    ) throws {
        var existing: [[UInt8]: stat] = [:]
        if !isNew {
            for name in try handle.names() { existing[name] = handle.status(name) }
        }
        var seen = Set<[UInt8]>()
        for (name, child) in image.entries(of: node) {
            seen.insert(name)
            guard let attributes = image.attributes(of: child) else { continue }
            let path = handle.display(name)
            var current = existing[name]
            if attributes.kind == .directory {
                var created = false
                if current.map(Self.kind) != S_IFDIR {
                    // Whatever is there (a file, or a symlink that could lead outside) goes; never followed.
                    if current != nil { removed.add(try handle.removeTree(name), ordering: .relaxed) }
                    guard DirectoryHandle.withName(name, { mkdirat(handle.fd, $0, 0o700) }) == 0 else {
                        throw RestoreError.system("create directory", path)
                    }
                    written.add(1, ordering: .relaxed)
                    created = true
                }
                plan.directories.append(.init(parent: index, name: name, node: child))
                try walk(
                    child, handle: try handle.child(name), index: plan.directories.count - 1, isNew: created,
                    plan: &plan, primaries: &primaries)
                continue
            }
            let isDevice = attributes.kind == .blockDevice || attributes.kind == .characterDevice
            if isDevice && !(options.allowDevices && metadata.isRoot) {
                reject(
                    RestoreWarning(
                        path: path, kind: .deviceSkipped(major: attributes.deviceMajor, minor: attributes.deviceMinor)))
                continue
            }
            if let info = current, Self.kind(info) == S_IFDIR {
                // rename(2) can't put a file over a directory.
                removed.add(try handle.removeTree(name), ordering: .relaxed)
                current = nil
            }
            if let primary = primaries[child] {
                plan.links.append(.init(directory: index, name: name, primary: primary))
                continue
            }
            if let note = metadata.privilegeNote(child, attributes, path: path) { reject(note) }
            primaries[child] = (index, name)
            if let info = current, isUnchanged(info, attributes, child, in: handle, name) {
                // Left alone (the rule: same type, size, mtime and mode). Its xattrs are
                // checked only when the image has any: listing them is half of a rollback's walk,
                // and an image without xattrs has nothing to put back.
                if image.hasExtendedAttributes {
                    try metadata.reconcileXattrs(.path(handle.procPath(name)), child, path: path)
                }
                unchanged.add(1, ordering: .relaxed)
                continue
            }
            if attributes.kind == .regularFile {
                if !inPlace {
                    // Created here, one thread in tree order: workers creating files in one
                    // directory at once contend on its lock (measured: a third of the CPU time).
                    let fd = DirectoryHandle.withName(name) {
                        openat(handle.fd, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
                    }
                    guard fd >= 0 else { throw RestoreError.system("create", path) }
                    close(fd)
                }
                plan.copies.append(
                    .init(directory: index, name: name, node: child, order: image.dataStart(of: child) ?? 0))
            } else {
                try writeNode(child, attributes, in: handle, name)
            }
        }
        guard !options.keepExtra else { return }
        for name in existing.keys where !seen.contains(name) {
            removed.add(try handle.removeTree(name), ordering: .relaxed)
        }
    }

    private static func kind(_ info: stat) -> UInt32 { info.st_mode & S_IFMT }

    /// Same type, size (or target, or device), mtime, mode and (as root) owner: left alone, data unread.
    private func isUnchanged(
        _ info: stat, _ attributes: NodeAttributes, _ node: NodeID, in handle: DirectoryHandle, _ name: [UInt8]
    ) -> Bool {
        guard Self.kind(info) == attributes.mode & S_IFMT, metadata.matches(info, attributes) else { return false }
        switch attributes.kind {
        case .regularFile: return UInt64(info.st_size) == attributes.size
        case .symlink: return handle.linkTarget(name) == image.symlinkTarget(of: node)
        case .blockDevice, .characterDevice: return info.st_rdev == Self.deviceNumber(attributes)
        default: return true
        }
    }

    /// glibc's makedev of the snapshot's major and minor numbers.
    private static func deviceNumber(_ attributes: NodeAttributes) -> dev_t {
        let major = UInt64(attributes.deviceMajor)
        let minor = UInt64(attributes.deviceMinor)
        let high: UInt64 = ((major & 0xffff_f000) << 32) | ((minor & 0xffff_ff00) << 12)
        let low: UInt64 = ((major & 0xfff) << 8) | (minor & 0xff)
        return dev_t(high | low)
    }

    /// Creates a symlink or special file (under a temporary name when in place), then its metadata.
    private func writeNode(_ node: NodeID, _ attributes: NodeAttributes, in handle: DirectoryHandle, _ name: [UInt8])
        throws
    {
        let target = image.symlinkTarget(of: node) ?? []
        let staging = try createUnique(in: handle, name) { candidate in
            DirectoryHandle.withName(candidate) { cName in
                if attributes.kind == .symlink {
                    // Absolute or escaping targets are just data: created, never followed here.
                    return DirectoryHandle.withName(target) { symlinkat($0, handle.fd, cName) }
                }
                return mknodat(handle.fd, cName, attributes.mode & S_IFMT | 0o600, Self.deviceNumber(attributes))
            }
        }
        do {
            try metadata.apply(in: handle, staging, node, attributes)
            if staging != name { try handle.rename(staging, to: name) }
        } catch {
            _ = DirectoryHandle.withName(staging) { unlinkat(handle.fd, $0, 0) }
            throw error
        }
        written.add(1, ordering: .relaxed)
    }

    /// Runs `create` with `name` (fresh) or with fresh temporary names until one does not exist
    /// yet (in place); returns the name used.
    private func createUnique(in handle: DirectoryHandle, _ name: [UInt8], _ create: ([UInt8]) -> Int32) throws
        -> [UInt8]
    {
        guard inPlace else {
            guard create(name) >= 0 else { throw RestoreError.system("create", handle.display(name)) }
            return name
        }
        for _ in 0..<16 {
            let candidate = Array(".sqbackup-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))".utf8)
            if create(candidate) >= 0 { return candidate }
            guard errno == EEXIST else { throw RestoreError.system("create", handle.display(name)) }
        }
        throw RestoreError("create \(handle.display(name)): no free temporary name")
    }

    // MARK: - File data

    /// Copies every planned file, sorted by where its data lies in the image, on `workers` threads:
    /// together they read the image front to back in large requests instead of seeking around it.
    private func copyFiles(_ plan: RestorePlan) throws {
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
                        if cached?.index != copy.directory {
                            cached = (copy.directory, try open(copy.directory, plan))
                        }
                        try writeFile(copy, in: cached!.handle)
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
    private func open(_ index: Int, _ plan: RestorePlan) throws -> DirectoryHandle {
        var handle = root
        for name in plan.components(of: index) { handle = try handle.child(name) }
        return handle
    }

    /// Writes one file: size first (holes stay holes), then only the stored ranges, metadata, rename.
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
            guard fd >= 0 else { throw RestoreError.system("open", path) }
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
                if stopping.load(ordering: .relaxed) { throw RestoreError("\(path): restore stopped") }
                let wanted = Int(min(UInt64(options.chunkBytes), end - offset))
                // Written slice by slice straight from the cached blocks, never joined into one buffer.
                let pieces = try reader.readPieces(offset: offset, length: wanted)
                let got = pieces.reduce(0) { $0 + $1.count }
                guard got == wanted else {
                    throw RestoreError("\(path): image gave \(got) bytes at \(offset), \(wanted) expected")
                }
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
        if staging != copy.name { try handle.rename(staging, to: copy.name) }
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

    // MARK: - Links and directories

    /// Gives hard-linked entries their further names, linking to the name restored first (inside the target).
    private func makeLinks(_ plan: RestorePlan) throws {
        for link in plan.links {
            let primaryHandle = try open(link.primary.directory, plan)
            let handle = try open(link.directory, plan)
            if let primary = primaryHandle.status(link.primary.name), let current = handle.status(link.name),
                primary.st_dev == current.st_dev && primary.st_ino == current.st_ino
            {
                unchanged.add(1, ordering: .relaxed)
                continue
            }
            let staging = try createUnique(in: handle, link.name) { candidate in
                DirectoryHandle.withName(link.primary.name) { from in
                    DirectoryHandle.withName(candidate) { linkat(primaryHandle.fd, from, handle.fd, $0, 0) }
                }
            }
            if staging != link.name {
                do {
                    try handle.rename(staging, to: link.name)
                } catch {
                    _ = DirectoryHandle.withName(staging) { unlinkat(handle.fd, $0, 0) }
                    throw error
                }
            }
            written.add(1, ordering: .relaxed)
        }
    }

    /// Owner, mode, xattrs and mtime of every directory, children before parents, after all
    /// writes inside them (each write would bump the mtime again).
    private func finishDirectories(_ plan: RestorePlan) throws {
        for index in plan.directories.indices.reversed() {
            let directory = plan.directories[index]
            guard let attributes = image.attributes(of: directory.node) else { continue }
            let handle = try open(index, plan)
            try metadata.apply(fd: handle.fd, directory.node, attributes, path: handle.path.isEmpty ? "." : handle.path)
        }
    }
}

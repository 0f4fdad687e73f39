import Foundation
import SquashReader
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One restore of an image into an open root directory, in phases: walk the snapshot (create
/// directories, symlinks and special files, plan the file copies), copy file data in image order
/// on a pool of threads, make hard links, remove what the snapshot lacks, then set directory
/// metadata bottom-up. An entry that fails on its own (damaged data, a name the filesystem
/// refuses) is left out and reported; a failure of the target or the store, or a stop, ends the run.
final class RestoreRun: Sendable {
    let image: SquashImage
    let options: RestoreOptions
    let metadata: MetadataWriter
    let root: DirectoryHandle
    /// In place, every entry is written under a temporary name and renamed over the old one, so
    /// each file is either old or new, never torn. A fresh build (in a hidden sibling) needs no such care.
    let inPlace: Bool
    /// What the entries a fresh build creates already carry; nil in place.
    let createdEntries: CreatedEntries?

    let written = Atomic<Int>(0)
    let unchanged = Atomic<Int>(0)
    let removed = Atomic<Int>(0)
    let bytesWritten = Atomic<Int>(0)
    /// Progress counters, read by a sampler (`RestoreRun+Progress.swift`), never locked.
    let filesCopied = Atomic<Int>(0)
    let filesToCopy = Atomic<Int>(0)
    let bytesToCopy = Atomic<Int>(0)
    let planned = Atomic<Bool>(false)
    private let rejections = Mutex<[RestoreWarning]>([])
    /// Entries left out; their further hard-link names are left out with them.
    private let failedNodes = Mutex<Set<NodeID>>([])
    let failure = Mutex<(any Error)?>(nil)
    let stopping = Atomic<Bool>(false)

    init(image: SquashImage, options: RestoreOptions, root: DirectoryHandle, inPlace: Bool) {
        self.image = image
        self.options = options
        self.metadata = MetadataWriter(image: image, options: options)
        self.root = root
        self.inPlace = inPlace
        createdEntries = inPlace ? nil : CreatedEntries(root: root)
    }

    var rejected: [RestoreWarning] { rejections.withLock { $0 } }

    func reject(_ warning: RestoreWarning) { rejections.withLock { $0.append(warning) } }

    func run() throws {
        let sampler = startProgressSampler()
        var completed = false
        defer { sampler?.stop(finished: completed) }
        var plan = RestorePlan()
        plan.directories.append(.init(parent: nil, name: [], node: SquashImage.rootID))
        var primaries = [NodeID: (directory: Int, name: [UInt8])]()
        try walk(SquashImage.rootID, handle: root, index: 0, isNew: !inPlace, plan: &plan, primaries: &primaries)
        publishTotals(plan)
        try copyFiles(plan)
        try makeLinks(plan)
        try removeExtras(plan)
        try finishDirectories(plan)
        completed = true
    }

    /// Throws `interrupted` once a stop was asked for, or stops quietly when another worker failed
    /// (its error is the run's).
    func checkStop() throws {
        if let reason = options.cancellation?.cancelReason { throw RestoreError.interrupted(reason) }
        if stopping.load(ordering: .relaxed) { throw RestoreError("restore stopped") }
    }

    /// Records entry `node` at `path` as not restored when `error` is the entry's own; rethrows
    /// a failure of the whole restore.
    func skip(_ node: NodeID?, path: String, after error: any Error) throws {
        guard let warning = EntryFailure.warning(for: error, path: path) else { throw error }
        reject(warning)
        if let node { _ = failedNodes.withLock { $0.insert(node) } }
    }

    func hasFailed(_ node: NodeID) -> Bool { failedNodes.withLock { $0.contains(node) } }

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
        for (name, child) in try image.loadEntries(of: node) {
            try checkStop()
            seen.insert(name)
            do {
                try visit(
                    name, child, existing: existing[name], handle: handle, index: index, plan: &plan,
                    primaries: &primaries)
            } catch {
                // Only an entry that was restored first under this name counts as failed for its
                // further names; otherwise the next name is tried as the first.
                try skip(primaries[child] == nil ? nil : child, path: handle.display(name), after: error)
            }
        }
        guard !options.keepExtra else { return }
        for name in existing.keys where !seen.contains(name) {
            plan.extras.append(.init(directory: index, name: name))
        }
    }

    /// Restores one entry of directory `index`: a directory at once (and its subtree), a symlink
    /// or special file at once, a regular file into the plan.
    private func visit(
        _ name: [UInt8], _ child: NodeID, existing current: stat?, handle: DirectoryHandle, index: Int,
        plan: inout RestorePlan, primaries: inout [NodeID: (directory: Int, name: [UInt8])]
    ) throws {
        guard let attributes = try image.loadAttributes(of: child) else { return }
        let path = handle.display(name)
        if attributes.kind == .directory {
            // The index decodes directories as they are reached, so a damaged image that lists a
            // directory under its own subtree is caught here rather than walked forever.
            guard plan.entered.insert(child).inserted else {
                throw ImageError.corrupt(image: image.source.displayName, reason: "directory \(path) is reached twice")
            }
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
            let opened = try handle.child(name)
            plan.directories.append(.init(parent: index, name: name, node: child))
            try walk(
                child, handle: opened, index: plan.directories.count - 1, isNew: created, plan: &plan,
                primaries: &primaries)
            return
        }
        let isDevice = attributes.kind == .blockDevice || attributes.kind == .characterDevice
        if isDevice && !(options.allowDevices && metadata.isRoot) {
            reject(
                RestoreWarning(
                    path: path, kind: .deviceSkipped(major: attributes.deviceMajor, minor: attributes.deviceMinor)))
            return
        }
        if let primary = primaries[child] {
            plan.links.append(.init(directory: index, name: name, node: child, primary: primary))
            return
        }
        if let note = metadata.privilegeNote(child, attributes, path: path) { reject(note) }
        if let info = current, isUnchanged(info, attributes, child, in: handle, name) {
            primaries[child] = (index, name)
            // Left alone (the rule: same type, size, mtime and mode). Its xattrs are
            // checked only when the image has any: listing them is half of a rollback's walk,
            // and an image without xattrs has nothing to put back.
            if image.hasExtendedAttributes {
                try metadata.reconcileXattrs(.path(handle.procPath(name)), child, path: path)
            }
            unchanged.add(1, ordering: .relaxed)
            return
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
            primaries[child] = (index, name)
            plan.copies.append(
                .init(directory: index, name: name, node: child, order: image.dataStart(of: child) ?? 0))
        } else {
            try writeNode(child, attributes, in: handle, name)
            primaries[child] = (index, name)
        }
    }

    static func kind(_ info: stat) -> UInt32 { info.st_mode & S_IFMT }

    /// Same type, size (or target, or device), mtime, mode and (as root) owner: left alone, data unread.
    private func isUnchanged(
        _ info: stat, _ attributes: NodeAttributes, _ node: NodeID, in handle: DirectoryHandle, _ name: [UInt8]
    ) -> Bool {
        guard Self.kind(info) == attributes.mode & S_IFMT, metadata.matches(info, attributes) else { return false }
        switch attributes.kind {
        case .regularFile:
            return UInt64(info.st_size) == attributes.size
                && !Self.mayHaveChangedUnseen(info, snapshotSecond: image.info.modificationTime)
        case .symlink: return handle.linkTarget(name) == image.symlinkTarget(of: node)
        case .blockDevice, .characterDevice: return info.st_rdev == Self.deviceNumber(attributes)
        default: return true
        }
    }

    /// Whether a file that matches the snapshot's size and mtime may still differ from it. Squashfs
    /// keeps whole seconds, and the image's time is no earlier than any file in it and no later than
    /// the snapshot: a file written again in that same second, after the snapshot read it, keeps
    /// its second (and often its size). Such a file is rewritten, unless its mtime has no
    /// nanoseconds: whole seconds are what a restore sets, and a write almost never leaves.
    static func mayHaveChangedUnseen(_ info: stat, snapshotSecond: UInt32) -> Bool {
        info.st_mtim.tv_sec >= Int(snapshotSecond) && info.st_mtim.tv_nsec != 0
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
            if staging != name { try moveIntoPlace(staging, name, in: handle) }
        } catch {
            _ = DirectoryHandle.withName(staging) { unlinkat(handle.fd, $0, 0) }
            throw error
        }
        written.add(1, ordering: .relaxed)
    }

    /// Runs `create` with `name` (fresh) or with fresh temporary names until one does not exist
    /// yet (in place); returns the name used.
    func createUnique(in handle: DirectoryHandle, _ name: [UInt8], _ create: ([UInt8]) -> Int32) throws
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

    /// Renames `staging` over `name`. A directory there (the snapshot has a file) is removed only
    /// now, so that an entry that fails or a restore that stops leaves it as it was.
    func moveIntoPlace(_ staging: [UInt8], _ name: [UInt8], in handle: DirectoryHandle) throws {
        try checkStop()
        if let info = handle.status(name), Self.kind(info) == S_IFDIR {
            removed.add(try handle.removeTree(name), ordering: .relaxed)
        }
        try handle.rename(staging, to: name)
    }

}

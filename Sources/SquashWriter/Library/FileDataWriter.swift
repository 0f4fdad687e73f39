import CSquashfs
import Crypto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Feeds regular files through the block processor, storing identical files once.
///
/// Deduplication is per file and done here, not by the library: the library's block dedup reads the
/// image back and truncates it, which an append-only sink can't allow. Only files whose size matches
/// another file's can be duplicates. A file that fits the read buffer is read once, hashed there and
/// then stored or pointed at its twin. A larger one, the first of its size, is written and hashed as
/// it streams; a later one is hashed first and, if an identical file was already stored, its inode
/// reuses that file's blocks and fragment. The key is the hash of the bytes actually stored, so a file that
/// changes between hashing and storing can never lend the wrong data to another.
final class FileDataWriter {
    private let objects: LibraryObjects
    private let options: BuildOptions
    private let warn: (BuildWarning) -> Void
    /// Inode slots the block processor keeps filling until `finish`; stable heap memory.
    private let slots: UnsafeMutablePointer<UnsafeMutablePointer<sqfs_inode_generic_t>?>
    private let slotCount: Int
    private var usedSlots = 0
    private let buffer: UnsafeMutableRawBufferPointer
    private let zeros: UnsafeMutableRawBufferPointer

    /// For each stored file node: the slot whose inode describes its data.
    private(set) var dataSlot: [Int: Int] = [:]
    private var stored: [ContentKey: Int] = [:]
    private(set) var bytesRead: UInt64 = 0
    private(set) var dedupFiles = 0
    private(set) var dedupBytes: UInt64 = 0
    private(set) var filesDone = 0

    private struct ContentKey: Hashable {
        var size: UInt64
        var digest: SHA256.Digest
    }

    init(objects: LibraryObjects, options: BuildOptions, fileCount: Int, warn: @escaping (BuildWarning) -> Void) {
        self.objects = objects
        self.options = options
        self.warn = warn
        slotCount = max(1, fileCount)
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: nil, count: slotCount)
        buffer = .allocate(byteCount: SourceFile.wholeReadLimit, alignment: 4096)
        zeros = .allocate(byteCount: 1 << 20, alignment: 4096)
        zeros.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit {
        for index in 0..<slotCount { sqfs_free(slots[index]) }
        slots.deallocate()
        buffer.deallocate()
        zeros.deallocate()
    }

    /// The block processor's inode for `slot`; valid after `finish()`.
    func inode(slot: Int) -> UnsafeMutablePointer<sqfs_inode_generic_t>? { slots[slot] }

    func write(_ files: [Int], tree: inout FileTree, progress: (UInt64) throws -> Void) throws {
        var sizeCounts: [UInt64: Int] = [:]
        for node in files where tree.nodes[node].size > 0 { sizeCounts[tree.nodes[node].size, default: 0] += 1 }
        var sizesStored = Set<UInt64>()
        for node in files {
            let size = tree.nodes[node].size
            let candidate = (sizeCounts[size] ?? 0) > 1
            do {
                let source = try SourceFile(path: tree.nodes[node].path)
                if source.openInfo.st_size <= buffer.count {
                    if try writeWhole(node, source, hashing: candidate, &tree) {
                        dedupFiles += 1
                        dedupBytes += tree.nodes[node].size
                    } else {
                        sizesStored.insert(size)
                    }
                } else if candidate && sizesStored.contains(size), try reuseDuplicate(node, source, &tree) {
                    dedupFiles += 1
                    dedupBytes += tree.nodes[node].size
                } else {
                    try store(node, source, hashing: candidate, &tree)
                    sizesStored.insert(size)
                }
            } catch SourceFile.OpenError.vanished(let reason) {
                tree.nodes[node].skipped = true
                report(.vanished, tree.nodes[node], "\(reason) since the scan; left out")
            } catch SourceFile.OpenError.unreadable(let reason) {
                let error = BuildError.unreadable(path: tree.nodes[node].displayPath, reason: reason)
                guard options.skipUnreadable else { throw error }
                tree.nodes[node].skipped = true
                report(.skippedUnreadable, tree.nodes[node], "\(error); left out")
            }
            filesDone += 1
            try progress(bytesRead)
        }
        try check(sqfs_block_processor_finish(objects.processor), "finish writing data blocks")
    }

    private func report(_ kind: BuildWarning.Kind, _ node: TreeNode, _ message: String) {
        warn(BuildWarning(kind: kind, path: node.displayPath, message: message))
    }

    private func check(_ code: Int32, _ operation: String) throws {
        guard code == 0 else { throw objects.bridge.failure ?? BuildError.library(operation: operation, code: code) }
    }

    /// Hashes the file; if identical content is stored already, points the node at it.
    private func reuseDuplicate(_ node: Int, _ source: SourceFile, _ tree: inout FileTree) throws -> Bool {
        var hasher = SHA256()
        let limit = UInt64(max(0, source.openInfo.st_size))
        let count = try source.read(limit: limit, buffer: buffer, zeros: UnsafeRawBufferPointer(zeros)) {
            hasher.update(bufferPointer: $0)
            bytesRead += UInt64($0.count)
        }
        let key = ContentKey(size: count, digest: hasher.finalize())
        guard let slot = stored[key] else { return false }
        noteChanges(node, source, delivered: count, &tree)
        dataSlot[node] = slot
        return true
    }

    /// Stores a file that fits the buffer from one read: hashed there when it may be a duplicate,
    /// and either pointed at identical stored content or handed to the block processor from the same
    /// bytes, so a file is never read twice. Returns whether it was a duplicate.
    private func writeWhole(_ node: Int, _ source: SourceFile, hashing: Bool, _ tree: inout FileTree) throws -> Bool {
        let count = try source.readWhole(limit: Int(max(0, source.openInfo.st_size)), into: buffer)
        bytesRead += UInt64(count)
        let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
        var key: ContentKey?
        if hashing {
            var hasher = SHA256()
            hasher.update(bufferPointer: bytes)
            key = ContentKey(size: UInt64(count), digest: hasher.finalize())
            if let slot = stored[key!] {
                noteChanges(node, source, delivered: UInt64(count), &tree)
                dataSlot[node] = slot
                return true
            }
        }
        let slot = try beginFile()
        if count > 0 {
            try check(sqfs_block_processor_append(objects.processor, bytes.baseAddress, count), "add file data")
        }
        try check(sqfs_block_processor_end_file(objects.processor), "end a file")
        noteChanges(node, source, delivered: UInt64(count), &tree)
        dataSlot[node] = slot
        if let key { stored[key] = slot }
        return false
    }

    /// Starts a file in the block processor; returns the slot its inode will be in.
    private func beginFile() throws -> Int {
        precondition(usedSlots < slotCount)
        let slot = usedSlots
        usedSlots += 1
        try check(
            sqfs_block_processor_begin_file(
                objects.processor, slots + slot, nil, UInt32(SQFS_BLK_DONT_DEDUPLICATE.rawValue)),
            "start a file")
        return slot
    }

    private func store(_ node: Int, _ source: SourceFile, hashing: Bool, _ tree: inout FileTree) throws {
        var hasher = SHA256()
        let processor = objects.processor
        let slot = try beginFile()
        let limit = UInt64(max(0, source.openInfo.st_size))
        let count: UInt64
        do {
            count = try source.read(limit: limit, buffer: buffer, zeros: UnsafeRawBufferPointer(zeros)) { chunk in
                if hashing { hasher.update(bufferPointer: chunk) }
                bytesRead += UInt64(chunk.count)
                try check(sqfs_block_processor_append(processor, chunk.baseAddress, chunk.count), "add file data")
            }
        } catch SourceFile.OpenError.unreadable(let reason) {
            // The blocks already queued stay in the image, unreferenced; the image is still valid.
            try check(sqfs_block_processor_end_file(processor), "end a file")
            throw SourceFile.OpenError.unreadable(reason)
        }
        try check(sqfs_block_processor_end_file(processor), "end a file")
        noteChanges(node, source, delivered: count, &tree)
        dataSlot[node] = slot
        if hashing { stored[ContentKey(size: count, digest: hasher.finalize())] = slot }
    }

    /// The image stores exactly the bytes read; if the file moved under us, say so and keep its
    /// metadata consistent with those bytes.
    private func noteChanges(_ node: Int, _ source: SourceFile, delivered: UInt64, _ tree: inout FileTree) {
        let scanned = tree.nodes[node].size
        let opened = source.openInfo
        let now = source.currentInfo() ?? opened
        let changedDuringRead =
            now.st_size != opened.st_size || now.st_mtim.tv_sec != opened.st_mtim.tv_sec
            || now.st_mtim.tv_nsec != opened.st_mtim.tv_nsec || delivered != UInt64(max(0, opened.st_size))
        let changedSinceScan = UInt64(max(0, opened.st_size)) != scanned
        guard changedDuringRead || changedSinceScan else { return }
        tree.nodes[node].size = delivered
        tree.nodes[node].mtime = UInt32(clamping: max(0, Int64(now.st_mtim.tv_sec)))
        let message =
            changedDuringRead
            ? "changed while it was read; the image holds the \(delivered) bytes read"
            : "changed since the scan (\(scanned) → \(delivered) bytes); the image holds the newer version"
        report(.changedWhileReading, tree.nodes[node], message)
    }
}

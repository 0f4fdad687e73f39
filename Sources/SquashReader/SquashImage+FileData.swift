#if canImport(Glibc)
    import Glibc
#endif

// File data: reads, prefetches and hydration, through the block fetcher.
extension SquashImage {
    /// Reads up to `length` bytes of regular file `id` at `offset`; fewer only at end of file.
    /// Throws `ImageError.corrupt` for a block that does not decode, `.storage` when bytes can't be fetched.
    public func read(_ id: NodeID, offset: UInt64, length: Int) throws -> [UInt8] {
        Self.joined(try readPieces(id, offset: offset, length: length))
    }

    /// Pieces as one buffer, with bulk copies (`joined()` would copy byte by byte).
    static func joined(_ pieces: [ArraySlice<UInt8>]) -> [UInt8] {
        if pieces.count == 1 { return Array(pieces[0]) }
        var output = [UInt8]()
        output.reserveCapacity(pieces.reduce(0) { $0 + $1.count })
        for piece in pieces { output.append(contentsOf: piece) }
        return output
    }

    /// The bytes `read` returns, as consecutive slices of the cached blocks: a caller that can
    /// send them as they are (FUSE's `reply_iov`) saves copying them into one buffer.
    public func readPieces(_ id: NodeID, offset: UInt64, length: Int) throws -> [ArraySlice<UInt8>] {
        guard let (node, layout) = try loadRegularFile(id), offset < node.size, length > 0 else { return [] }
        let end = min(node.size, offset + UInt64(length))
        let blockSize = UInt64(info.blockSize)
        let first = offset / blockSize
        let last = (end - 1) / blockSize
        var references = [BlockReference]()
        references.reserveCapacity(Int(last - first + 1))
        for block in first...last {
            references.append(reference(block: block, layout: layout, fileSize: node.size))
        }
        let blocks = try fetcher.blocks(references)
        var output = [ArraySlice<UInt8>]()
        output.reserveCapacity(blocks.count)
        for (position, block) in blocks.enumerated() {
            let blockIndex = first + UInt64(position)
            let blockStart = blockIndex * blockSize
            var sliceStart = Int(max(offset, blockStart) - blockStart)
            var sliceEnd = Int(min(end, blockStart + blockSize) - blockStart)
            if blockIndex >= UInt64(layout.blockCount) {
                // The tail lives inside a fragment block, at the inode's offset.
                sliceStart += Int(layout.fragmentOffset)
                sliceEnd += Int(layout.fragmentOffset)
            }
            guard sliceEnd <= block.count else {
                statistics.corruptBlocks.add(1, ordering: .relaxed)
                throw ImageError.corrupt(
                    image: source.displayName,
                    reason: "block \(blockIndex) of inode \(id) holds \(block.count) bytes, \(sliceEnd) needed")
            }
            output.append(block[block.startIndex + sliceStart..<block.startIndex + sliceEnd])
        }
        return output
    }

    /// Starts fetching the blocks of file `id` that cover `[offset, offset + length)` in the background.
    public func prefetch(_ id: NodeID, offset: UInt64, length: Int) {
        guard length > 0, let (node, layout) = regularFile(id), offset < node.size else { return }
        let end = min(node.size, offset + UInt64(length))
        let blockSize = UInt64(info.blockSize)
        let references = (offset / blockSize...(end - 1) / blockSize).map {
            reference(block: $0, layout: layout, fileSize: node.size)
        }
        fetcher.prefetch(references)
    }

    /// Copies the whole image's data into the disk cache (every block once, in image order), so
    /// that later reads need no network; yields to on-demand reads. Returns the bytes fetched.
    @discardableResult
    public func hydrate(concurrency: Int = 4, isCancelled: () -> Bool = { false }) throws -> Int {
        var references = [BlockReference]()
        try forEachRegularFile { _, _, layout in
            for block in 0..<layout.blockCount {
                references.append(
                    BlockReference(offset: layout.offsets[block], word: layout.words[block], expectedSize: nil))
            }
        }
        for fragment in index.fragments {
            references.append(BlockReference(offset: fragment.start, word: fragment.word, expectedSize: nil))
        }
        return try fetcher.hydrate(references, concurrency: concurrency, isCancelled: isCancelled)
    }

    /// Waits until fetched blocks are persisted in the disk cache (before unmount, and in tests).
    public func flushDiskCache() { fetcher.flushDiskWrites() }

    /// Starts fetching every block of the regular files `ids` in the background; blocks that lie
    /// next to each other in the image (consecutive files) merge into large requests. A restore
    /// scans ahead with it so that many small files don't cost one round trip each.
    public func prefetch(files ids: [NodeID]) {
        var references = [BlockReference]()
        for id in ids {
            guard let (node, layout) = regularFile(id), node.size > 0 else { continue }
            let blocks = UInt64(layout.blockCount) + (layout.hasFragment ? 1 : 0)
            for block in 0..<blocks {
                references.append(reference(block: block, layout: layout, fileSize: node.size))
            }
        }
        if !references.isEmpty { fetcher.prefetch(references) }
    }

    /// A reader for one open file that detects sequential access and reads ahead.
    public func openFile(_ id: NodeID) -> FileReader {
        FileReader(
            image: self, id: id, initialWindow: readahead.initial, maxWindow: readahead.maximum,
            budget: readaheadBudget)
    }

    /// The layout of regular file `id` as runs of stored data and sparse holes, in file order, so a
    /// restore can keep holes sparse; empty for other entries and empty files.
    public func dataRanges(of id: NodeID) -> [FileDataRange] {
        guard let (node, layout) = regularFile(id), node.size > 0 else { return [] }
        let blockSize = UInt64(info.blockSize)
        var ranges = [FileDataRange]()
        func append(_ offset: UInt64, _ length: UInt64, hole: Bool) {
            if let last = ranges.last, last.isHole == hole, last.offset + last.length == offset {
                ranges[ranges.count - 1].length += length
            } else {
                ranges.append(FileDataRange(offset: offset, length: length, isHole: hole))
            }
        }
        for block in 0..<UInt64(layout.blockCount) {
            let start = block * blockSize
            guard start < node.size else { break }
            let word = layout.words[Int(block)]
            append(start, min(blockSize, node.size - start), hole: BlockWord.storedSize(word) == 0)
        }
        let covered = UInt64(layout.blockCount) * blockSize
        if covered < node.size { append(covered, node.size - covered, hole: false) }
        return ranges
    }

    /// Where the data of regular file `id` starts in the image (its first stored block, else its
    /// tail fragment); nil when it stores none. Sorting files by it turns a restore into a
    /// sequential scan of the image.
    public func dataStart(of id: NodeID) -> UInt64? {
        guard let (node, layout) = regularFile(id), node.size > 0 else { return nil }
        for block in 0..<layout.blockCount where BlockWord.storedSize(layout.words[block]) > 0 {
            return layout.offsets[block]
        }
        guard layout.hasFragment, Int(layout.fragmentIndex) < index.fragments.count else { return nil }
        return index.fragments[Int(layout.fragmentIndex)].start
    }

    /// Node `id` and its block layout when it is a regular file; nil for any other node and for
    /// an id that names none (or whose inode does not decode). The data calls answer those with
    /// no data, not an error.
    func regularFile(_ id: NodeID) -> (node: InodeRecord, layout: InodeRecord.FileLayout)? {
        try? loadRegularFile(id)
    }

    /// `regularFile` that throws when the inode does not decode, so a read fails instead of
    /// looking like an empty file.
    func loadRegularFile(_ id: NodeID) throws -> (node: InodeRecord, layout: InodeRecord.FileLayout)? {
        guard let record = try index.record(id), let layout = record.file else { return nil }
        return (record, layout)
    }

    private func reference(block: UInt64, layout: InodeRecord.FileLayout, fileSize: UInt64) -> BlockReference {
        let blockSize = UInt64(info.blockSize)
        if block < UInt64(layout.blockCount) {
            let slot = Int(block)
            let isLast = block == UInt64(layout.blockCount) - 1 && !layout.hasFragment
            let expected = isLast ? Int(fileSize - block * blockSize) : Int(blockSize)
            return BlockReference(offset: layout.offsets[slot], word: layout.words[slot], expectedSize: expected)
        }
        let fragment = index.fragments[Int(layout.fragmentIndex)]
        return BlockReference(offset: fragment.start, word: fragment.word, expectedSize: nil)
    }
}

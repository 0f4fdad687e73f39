import Storage

#if canImport(Glibc)
    import Glibc
#endif

// Which files a stretch of the image belongs to: for naming what a damaged block takes with it.
extension SquashImage {
    /// For each of `ranges` (stretches of the image, such as damaged blocks), the paths of the
    /// regular files whose stored data overlaps it: files with a data block there, and files
    /// whose tail lives in a fragment block there. Paths are relative to the image root, sorted;
    /// a hard-linked file is named under each of its names, and a block that file-level dedup
    /// shares names every file that shares it. Ranges that hold no file data get no paths.
    public func files(storedIn ranges: [ByteRange]) -> [[String]] {
        guard !ranges.isEmpty else { return [] }
        let finder = OverlapFinder(ranges)
        var owners = Array(repeating: [String](), count: ranges.count)
        try? forEachRegularFile { path, _, layout in
            var hit = Set<Int>()
            for block in 0..<layout.blockCount {
                let size = BlockWord.storedSize(layout.words[block])
                if size > 0 { finder.overlapping(layout.offsets[block], UInt64(size), into: &hit) }
            }
            if layout.hasFragment, Int(layout.fragmentIndex) < index.fragments.count {
                let fragment = index.fragments[Int(layout.fragmentIndex)]
                finder.overlapping(fragment.start, UInt64(BlockWord.storedSize(fragment.word)), into: &hit)
            }
            for position in hit { owners[position].append(path) }
        }
        return owners.map { $0.sorted() }
    }

    /// Calls `body` with the path, id and block layout of every regular file, in tree order; each
    /// directory is entered once, whatever a damaged image claims. A sequential walk: each
    /// metadata block is decompressed about once.
    func forEachRegularFile(_ body: (String, NodeID, InodeRecord.FileLayout) throws -> Void) throws {
        var pending: [(id: NodeID, path: String)] = [(Self.rootID, "")]
        var entered = Set<NodeID>([Self.rootID])
        while let (directory, prefix) = pending.popLast() {
            guard let listing = try index.listing(directory) else { continue }
            for position in listing.entries.indices {
                let entry = listing.entries[position]
                let child = index.id(of: entry)
                let record = try index.record(at: entry.reference)
                let path = prefix + String(decoding: listing.name(at: position), as: UTF8.self)
                if record.directory != nil {
                    if entered.insert(child).inserted { pending.append((child, path + "/")) }
                } else if let layout = record.file {
                    try body(path, child, layout)
                }
            }
        }
    }
}

/// Finds which of a set of non-overlapping ranges a stretch of bytes overlaps, by binary search.
private struct OverlapFinder {
    private let starts: [UInt64]
    private let ends: [UInt64]
    private let positions: [Int]

    init(_ ranges: [ByteRange]) {
        let order = ranges.indices.sorted { ranges[$0].offset < ranges[$1].offset }
        starts = order.map { ranges[$0].offset }
        ends = order.map { ranges[$0].end }
        positions = order
    }

    /// Adds the positions (in the caller's order) of the ranges that overlap `offset ..< offset + length`.
    func overlapping(_ offset: UInt64, _ length: UInt64, into found: inout Set<Int>) {
        let end = offset + length
        var low = 0
        var high = starts.count
        while low < high {  // the first range starting at or past `end`
            let middle = (low + high) / 2
            if starts[middle] < end { low = middle + 1 } else { high = middle }
        }
        var index = low - 1
        while index >= 0 && ends[index] > offset {
            found.insert(positions[index])
            index -= 1
        }
    }
}

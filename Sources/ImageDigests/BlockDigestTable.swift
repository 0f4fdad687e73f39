import Crypto

/// The SHA-256 of every block of an image as stored, and of the metadata a reader decodes when
/// it opens the image: squashfs itself checks nothing, so bytes fetched lazily from a store are
/// checked against this table, kept beside the image.
///
/// Entries are sorted by offset and never overlap. Data and fragment blocks are looked up by
/// their on-disk offset, which is also how readers and caches name them.
public struct BlockDigestTable: Sendable, Equatable {
    /// What a stretch of the image is.
    public enum Kind: UInt8, Sendable, CaseIterable {
        /// One block of a file's data.
        case dataBlock = 1
        /// A block of packed file tails.
        case fragmentBlock = 2
        /// The superblock and the compressor options after it.
        case superblock = 3
        /// Every metadata table, from the inode table to the end of the image's used bytes.
        case metadata = 4
    }

    /// One checked stretch of the image.
    public struct Entry: Sendable, Equatable {
        public var offset: UInt64
        public var length: UInt32
        public var kind: Kind
        /// SHA-256 of the stored bytes, 32 bytes.
        public var digest: [UInt8]

        public init(offset: UInt64, length: UInt32, kind: Kind, digest: [UInt8]) {
            self.offset = offset
            self.length = length
            self.kind = kind
            self.digest = digest
        }

        /// The entry for `bytes` found at `offset`.
        public init(offset: UInt64, kind: Kind, bytes: UnsafeRawBufferPointer) {
            self.init(offset: offset, length: UInt32(bytes.count), kind: kind, digest: Array(SHA256.hash(data: bytes)))
        }

        public var end: UInt64 { offset + UInt64(length) }
    }

    /// The result of checking bytes against the table.
    public enum Check: Sendable, Equatable {
        case verified
        /// The bytes differ from what was stored at create.
        case mismatch
        /// The table has no entry starting at this offset, or one of another length: the image
        /// does not match the table (or the table is damaged).
        case notInTable
    }

    // Kept as parallel arrays: one allocation each however many blocks the image has.
    private var offsets: [UInt64] = []
    private var lengths: [UInt32] = []
    private var kinds: [Kind] = []
    private var digests: [UInt8] = []

    /// A table of `entries` in any order; throws when two of them overlap.
    public init(entries: [Entry]) throws(BlockDigestTableError) {
        let sorted = entries.sorted { $0.offset < $1.offset }
        offsets.reserveCapacity(sorted.count)
        lengths.reserveCapacity(sorted.count)
        kinds.reserveCapacity(sorted.count)
        digests.reserveCapacity(sorted.count * 32)
        var previousEnd: UInt64 = 0
        for (index, entry) in sorted.enumerated() {
            guard entry.digest.count == 32 else {
                throw .malformed("entry \(index) has a digest of \(entry.digest.count) bytes")
            }
            guard index == 0 || entry.offset >= previousEnd else {
                throw .malformed("entries overlap at offset \(entry.offset)")
            }
            offsets.append(entry.offset)
            lengths.append(entry.length)
            kinds.append(entry.kind)
            digests += entry.digest
            previousEnd = entry.end
        }
    }

    /// How many stretches of the image the table covers.
    public var count: Int { offsets.count }

    /// The entry at position `index` (0 ..< count), in offset order.
    public func entry(atIndex index: Int) -> Entry {
        Entry(
            offset: offsets[index], length: lengths[index], kind: kinds[index],
            digest: Array(digests[index * 32..<(index + 1) * 32]))
    }

    /// Every entry, in offset order.
    public var entries: [Entry] { (0..<count).map(entry(atIndex:)) }

    /// Where the entries end when they lie end to end from offset 0, without a gap; nil when
    /// there is a gap or no entry.
    public var contiguousEnd: UInt64? {
        var end: UInt64 = 0
        for index in offsets.indices {
            guard offsets[index] == end else { return nil }
            end += UInt64(lengths[index])
        }
        return offsets.isEmpty ? nil : end
    }

    /// The first entry of `kind`, e.g. the superblock or the metadata region.
    public func first(_ kind: Kind) -> Entry? {
        kinds.firstIndex(of: kind).map(entry(atIndex:))
    }

    /// Checks `bytes`, read at `offset`, against the entry that starts there.
    public func check(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) -> Check {
        guard let index = index(startingAt: offset), Int(lengths[index]) == bytes.count else { return .notInTable }
        let actual = SHA256.hash(data: bytes)
        let matches = actual.withUnsafeBytes { actual in
            digests.withUnsafeBufferPointer { expected in
                actual.elementsEqual(expected[index * 32..<(index + 1) * 32])
            }
        }
        return matches ? .verified : .mismatch
    }

    /// `check` for an array slice, e.g. one block of a fetched run.
    public func check(_ bytes: ArraySlice<UInt8>, at offset: UInt64) -> Check {
        bytes.withUnsafeBytes { check($0, at: offset) }
    }

    /// The entries that overlap `offset ..< offset + length`, for naming what a damaged range holds.
    public func entries(overlapping offset: UInt64, length: UInt64) -> [Entry] {
        let end = offset + length
        var low = 0
        var high = offsets.count
        while low < high {  // first entry whose end is past `offset`
            let middle = (low + high) / 2
            if offsets[middle] + UInt64(lengths[middle]) <= offset { low = middle + 1 } else { high = middle }
        }
        var found: [Entry] = []
        var index = low
        while index < offsets.count && offsets[index] < end {
            found.append(entry(atIndex: index))
            index += 1
        }
        return found
    }

    private func index(startingAt offset: UInt64) -> Int? {
        var low = 0
        var high = offsets.count
        while low < high {
            let middle = (low + high) / 2
            if offsets[middle] < offset { low = middle + 1 } else { high = middle }
        }
        return low < offsets.count && offsets[low] == offset ? low : nil
    }
}

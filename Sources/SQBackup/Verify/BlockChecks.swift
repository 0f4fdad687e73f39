import Crypto
import ImageDigests
import Storage

/// Checks an image's bytes against its digest table as ranges of it arrive. Entries that lie
/// inside one range are checked on the thread that read it (`inside`, in parallel); the few that
/// span two or more ranges are hashed piece by piece on the consuming thread (`spanning`, in
/// image order), so ranges need not be cut at block boundaries.
struct BlockChecks: Sendable {
    let table: BlockDigestTable

    /// The damaged entries that lie wholly inside `range`.
    func inside(_ range: ByteRange, _ bytes: [UInt8]) -> [BlockDigestTable.Entry] {
        var damaged: [BlockDigestTable.Entry] = []
        for entry in table.entries(overlapping: range.offset, length: UInt64(range.length))
        where entry.offset >= range.offset && entry.end <= range.end {
            let start = Int(entry.offset - range.offset)
            if table.check(bytes[start..<start + Int(entry.length)], at: entry.offset) != .verified {
                damaged.append(entry)
            }
        }
        return damaged
    }

    /// The state of the entry being hashed across ranges, fed in image order.
    struct Spanning {
        private var open: (entry: BlockDigestTable.Entry, hasher: SHA256)?

        init() {}

        /// Feeds the next range; returns a spanning entry found damaged once its last byte arrived.
        mutating func feed(_ range: ByteRange, _ bytes: [UInt8], table: BlockDigestTable) -> [BlockDigestTable.Entry] {
            var damaged: [BlockDigestTable.Entry] = []
            if let (entry, started) = open {
                var hasher = started
                let stop = min(entry.end, range.end)
                hasher.update(data: bytes[0..<Int(stop - range.offset)])
                if entry.end > range.end {
                    open = (entry, hasher)
                    return []
                }
                if !Array(hasher.finalize()).elementsEqual(entry.digest) { damaged.append(entry) }
                open = nil
            }
            let overlapping = table.entries(overlapping: range.offset, length: UInt64(range.length))
            if let last = overlapping.last, last.offset >= range.offset, last.end > range.end {
                var hasher = SHA256()
                hasher.update(data: bytes[Int(last.offset - range.offset)...])
                open = (last, hasher)
            }
            return damaged
        }

        /// Whether an entry is still waiting for bytes (it reaches past what was fed).
        var isWaiting: Bool { open != nil }
    }
}

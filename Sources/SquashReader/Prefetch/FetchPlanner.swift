import Storage

/// Turns the blocks a read is missing into range reads: blocks that lie end to end in the image
/// merge into one request of up to `maxRequestBytes`, so a readahead window or a hydration pass
/// costs a few large requests instead of one per block.
struct FetchPlanner: Sendable {
    /// One range read and the blocks it brings, in image order.
    struct Run<Member> {
        var range: ByteRange
        var members: [Member]

        /// The stored bytes of `block`, one of this run's, in `payload`, the run's body.
        func storedBytes(of block: BlockReference, in payload: [UInt8]) -> ArraySlice<UInt8> {
            let start = Int(block.offset - range.offset)
            return payload[start..<start + block.storedSize]
        }
    }

    /// Adjacent blocks merge into one request up to this many bytes.
    let maxRequestBytes: Int

    /// The runs that fetch `members` (whose blocks `block` gives) in image order. A block at the
    /// offset of the one before it is fetched once, as the first; `skip` leaves a block out (one
    /// already at hand).
    func runs<Member>(
        of members: [Member], block: (Member) -> BlockReference, skip: (BlockReference) -> Bool = { _ in false }
    ) -> [Run<Member>] {
        var runs = [Run<Member>]()
        for member in members.sorted(by: { block($0).offset < block($1).offset }) {
            let reference = block(member)
            if let last = runs.last?.members.last, block(last).offset == reference.offset { continue }
            if skip(reference) { continue }
            let size = reference.storedSize
            if let last = runs.last, last.range.end == reference.offset, last.range.length + size <= maxRequestBytes {
                runs[runs.count - 1].range.length += size
                runs[runs.count - 1].members.append(member)
            } else {
                runs.append(Run(range: ByteRange(offset: reference.offset, length: size), members: [member]))
            }
        }
        return runs
    }
}

extension FetchPlanner.Run: Sendable where Member: Sendable {}

import Storage
import Testing

@testable import SquashReader

/// A block of `size` stored bytes at `offset` (compressed; the flag does not matter to planning).
private func block(_ offset: UInt64, _ size: Int) -> BlockReference {
    BlockReference(offset: offset, word: UInt32(size), expectedSize: nil)
}

@Suite("FetchPlanner: blocks into range reads")
struct FetchPlannerTests {
    let planner = FetchPlanner(maxRequestBytes: 100)

    @Test("adjacent blocks merge into one read, in image order whatever the order asked")
    func adjacentBlocksMerge() {
        let runs = planner.runs(of: [block(130, 20), block(100, 10), block(110, 20)], block: { $0 })
        #expect(runs.map(\.range) == [ByteRange(offset: 100, length: 50)])
        #expect(runs[0].members.map(\.offset) == [100, 110, 130])
    }

    @Test("a gap between blocks starts a new read")
    func gapSplits() {
        let runs = planner.runs(of: [block(0, 10), block(11, 10)], block: { $0 })
        #expect(runs.map(\.range) == [ByteRange(offset: 0, length: 10), ByteRange(offset: 11, length: 10)])
    }

    @Test("a read grows up to the request limit and no further")
    func limitSplits() {
        let blocks = (0..<5).map { block(UInt64($0) * 40, 40) }
        let runs = planner.runs(of: blocks, block: { $0 })
        #expect(runs.map(\.range.length) == [80, 80, 40])
        #expect(runs.map(\.range.offset) == [0, 80, 160])
    }

    @Test("a block asked for twice is fetched once")
    func duplicatesFetchedOnce() {
        let runs = planner.runs(of: [block(0, 10), block(10, 10), block(0, 10)], block: { $0 })
        #expect(runs.map(\.range) == [ByteRange(offset: 0, length: 20)])
        #expect(runs[0].members.count == 2)
    }

    @Test("skipped blocks are left out, and a skipped block between two splits the read")
    func skippedBlocksLeftOut() {
        let blocks = [block(0, 10), block(10, 10), block(20, 10), block(30, 0), block(30, 10)]
        let runs = planner.runs(of: blocks, block: { $0 }, skip: { $0.offset == 10 || $0.isSparse })
        #expect(runs.map(\.range) == [ByteRange(offset: 0, length: 10), ByteRange(offset: 20, length: 20)])
    }

    @Test("each member's stored bytes are its slice of the run's body")
    func storedBytesSliceThePayload() {
        let runs = planner.runs(of: [block(5, 2), block(7, 3)], block: { $0 })
        let payload: [UInt8] = [1, 2, 3, 4, 5]
        #expect(Array(runs[0].storedBytes(of: block(5, 2), in: payload)) == [1, 2])
        #expect(Array(runs[0].storedBytes(of: block(7, 3), in: payload)) == [3, 4, 5])
    }
}

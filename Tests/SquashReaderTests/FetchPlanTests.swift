import Foundation
import SquashReader
import Storage
import Synchronization
import TestSupport
import Testing

/// An image of a 40 MiB and a 24 MiB file of compressible data plus a small tree, and the
/// source bytes of both files.
private let fixture: Result<(image: String, data: [UInt8], second: [UInt8]), any Error> = Result {
    let work = try TemporaryDirectory.removedAtExit("fetch-plan")
    let source = work.child("src")
    try FileManager.default.createDirectory(atPath: source + "/dir", withIntermediateDirectories: true)
    func compressible(count: Int, seed: UInt64) -> [UInt8] {
        let noise = TestTree.pseudoRandomBytes(count: count, seed: seed)
        var data = [UInt8]()
        data.reserveCapacity(noise.count)
        for (index, byte) in noise.enumerated() { data.append(index % 3 == 0 ? byte : UInt8(ascii: "a") + byte % 4) }
        return data
    }
    let data = compressible(count: 40 << 20, seed: 21)
    let second = compressible(count: 24 << 20, seed: 22)
    try Data(data).write(to: URL(fileURLWithPath: source + "/big.bin"))
    try Data(second).write(to: URL(fileURLWithPath: source + "/second.bin"))
    for index in 0..<300 { try Data("\(index)\n".utf8).write(to: URL(fileURLWithPath: source + "/dir/f\(index)")) }
    let image = work.child("image.sqsh")
    try SquashfsTools.mksquashfs(source, to: image, compressor: "zstd", blockSize: 131_072)
    return (image, data, second)
}

/// The fixture image over a counting source that has forgotten what opening read, big.bin
/// opened in it, and big.bin's bytes.
private func openBigFile() throws -> (source: CountingSource, image: SquashImage, file: FileReader, data: [UInt8]) {
    let (path, data, _) = try fixture.get()
    let source = CountingSource(try LocalFileSource(path: path))
    let image = try SquashImage.open(source)
    source.reset()
    return (source, image, image.openFile(image.resolve("big.bin")!), data)
}

@Suite("Fetch planning: few, large range requests")
struct FetchPlanTests {
    @Test("opening an image reads the head and the metadata tail: two requests")
    func openInTwoReads() throws {
        let (path, _, _) = try fixture.get()
        let source = CountingSource(try LocalFileSource(path: path))
        let image = try SquashImage.open(source)
        #expect(source.ranges.count == 2, "\(source.ranges)")
        source.reset()
        // Listing and stat of the whole tree come from memory.
        var stack = [SquashImage.rootID]
        var count = 0
        while let directory = stack.popLast() {
            for (_, node) in image.entries(of: directory) {
                count += 1
                if image.attributes(of: node)?.kind == .directory { stack.append(node) }
            }
        }
        #expect(count == 303)
        #expect(source.ranges.isEmpty)
    }

    @Test("a random 4 KiB read fetches at most two blocks and prefetches nothing")
    func randomReadIsSmall() throws {
        let (source, image, file, data) = try openBigFile()
        let offset = 20_000_000
        let bytes = try file.read(offset: UInt64(offset), length: 4096)
        #expect(bytes == Array(data[offset..<offset + 4096]))
        usleep(100_000)
        #expect(source.ranges.count == 1)
        #expect(source.ranges.reduce(0) { $0 + $1.length } <= 2 * 131_072)
        #expect(image.statistics.snapshot.prefetchedBlocks == 0)
    }

    @Test("a sequential reader gets growing, merged range requests and every byte right")
    func sequentialReadahead() throws {
        let (source, image, file, data) = try openBigFile()
        var offset = 0
        var wrong = 0
        while offset < data.count {
            let chunk = try file.read(offset: UInt64(offset), length: 131_072)
            if chunk != Array(data[offset..<min(data.count, offset + 131_072)]) { wrong += 1 }
            offset += 131_072
        }
        #expect(wrong == 0)
        let ranges = source.ranges
        let blocks = (data.count + 131_071) / 131_072
        #expect(image.statistics.snapshot.prefetchedBlocks > blocks / 2)
        #expect(ranges.count < blocks / 4, "\(ranges.count) requests for \(blocks) blocks")
        #expect((ranges.map(\.length).max() ?? 0) >= 4 << 20, "largest request \(ranges.map(\.length).max() ?? 0)")
        // No byte of the image is fetched twice.
        let sorted = ranges.sorted { $0.offset < $1.offset }
        #expect(zip(sorted, sorted.dropFirst()).allSatisfy { $0.end <= $1.offset })
    }

    @Test("a sequential reader that stops early leaves at most about twice as much fetched and unread")
    func earlyStopWastesLittle() throws {
        let (_, image, file, data) = try openBigFile()
        // `head -c 8M`: 64 reads of 128 KiB. A window that doubled on every read would be at its
        // cap by now and would have fetched the whole 40 MiB file.
        let taken = 8 << 20
        for offset in stride(from: 0, to: taken, by: 131_072) {
            #expect(try file.read(offset: UInt64(offset), length: 131_072) == Array(data[offset..<offset + 131_072]))
        }
        usleep(300_000)  // let the last readahead land
        let statistics = image.statistics.snapshot
        let fetchedBlocks = statistics.prefetchedBlocks + statistics.cacheMisses
        #expect(fetchedBlocks >= taken / 131_072)
        #expect(fetchedBlocks <= (3 * taken + (1 << 20)) / 131_072 + 2, "\(fetchedBlocks) blocks fetched")
    }

    @Test("two files streamed at once through a small memory cache: every block is fetched once")
    func twoStreamsShareTheCache() throws {
        let (path, data, second) = try fixture.get()
        let source = CountingSource(try LocalFileSource(path: path))
        var options = ReaderOptions()
        // Two windows of up to 32 MiB would not fit beside each other in 32 MiB: blocks fetched
        // ahead would be evicted before they were read, and fetched again.
        options.cacheBytes = 32 << 20
        options.readaheadMaximum = 32 << 20
        let image = try SquashImage.open(source, options: options)
        source.reset()
        let files = [
            (image.openFile(image.resolve("big.bin")!), data), (image.openFile(image.resolve("second.bin")!), second),
        ]
        var wrong = 0
        for offset in stride(from: 0, to: data.count, by: 131_072) {
            for (reader, bytes) in files where offset < bytes.count {
                let length = min(131_072, bytes.count - offset)
                if try reader.read(offset: UInt64(offset), length: length) != Array(bytes[offset..<offset + length]) {
                    wrong += 1
                }
            }
            usleep(200)  // readers slower than the source, so windows fill ahead of them
        }
        #expect(wrong == 0)
        let statistics = image.statistics.snapshot
        let fetchedBlocks = statistics.prefetchedBlocks + statistics.cacheMisses
        let blocks = (data.count + 131_071) / 131_072 + (second.count + 131_071) / 131_072
        #expect(fetchedBlocks <= blocks + blocks / 50, "\(fetchedBlocks) fetches for \(blocks) blocks: \(statistics)")
    }

    @Test("over a slow source, separate readahead batches are fetched side by side")
    func readaheadOverlapsRequests() throws {
        let (path, data, _) = try fixture.get()
        // 100 ms per request, as over a long round trip: windows of several open files (or
        // the ranges of one) must be fetched side by side, whatever the number of cores
        // (Dispatch's pool, which ran them before, has one thread per core).
        let source = CountingSource(try LocalFileSource(path: path), latency: .milliseconds(100))
        let image = try SquashImage.open(source)
        let id = image.resolve("big.bin")!
        for index in 0..<8 { image.prefetch(id, offset: UInt64(index) * (4 << 20), length: 1 << 20) }
        let file = image.openFile(id)
        for index in 0..<8 {
            let offset = index * (4 << 20)
            #expect(try file.read(offset: UInt64(offset), length: 4096) == Array(data[offset..<offset + 4096]))
        }
        #expect(source.mostConcurrentReads >= 6, "at most \(source.mostConcurrentReads) requests at once")
    }

    @Test("readahead of several files at once keeps range reads under way within a quarter of the memory cache")
    func concurrentReadersShareTheFetchBudget() throws {
        let (path, data, second) = try fixture.get()
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        // 50 ms a request, as over a network: the batches below all want to be under way at once.
        let source = InMemoryRangeSource(bytes: bytes, script: RequestScript(latency: .milliseconds(50)))
        var options = ReaderOptions()
        options.cacheBytes = 16 << 20  // a 4 MiB budget
        options.maxRequestBytes = 512 << 10
        let image = try SquashImage.open(source, options: options)
        let ranges =
            (0..<6).map { ("big.bin", data, $0 * (6 << 20)) } + (0..<4).map { ("second.bin", second, $0 * (6 << 20)) }
        // Ten readahead batches of 6 MiB (both files whole, about 37 MiB stored) started together, as the windows of
        // as many streaming readers would be, then read back by four threads.
        for (name, _, start) in ranges { image.prefetch(image.resolve(name)!, offset: UInt64(start), length: 6 << 20) }
        let wrong = Atomic<Int>(0)
        let done = DispatchGroup()
        for reader in 0..<4 {
            done.enter()
            Thread {
                defer { done.leave() }
                for (name, expected, start) in ranges[reader...].enumerated().filter({ $0.offset % 4 == 0 }).map(
                    \.element)
                {
                    let file = image.openFile(image.resolve(name)!)
                    for offset in stride(from: start, to: start + (6 << 20), by: 131_072) {
                        let read = try? file.read(offset: UInt64(offset), length: 131_072)
                        if read != Array(expected[offset..<offset + 131_072]) { wrong.add(1, ordering: .relaxed) }
                    }
                }
            }.start()
        }
        done.wait()
        #expect(wrong.load(ordering: .relaxed) == 0)
        let most = source.script.mostConcurrentBytes
        #expect(most <= 4 << 20, "\(most >> 20) MiB of range reads under way at once")
        #expect(source.script.mostConcurrentRequests >= 4, "the budget must still let requests overlap")
    }
}

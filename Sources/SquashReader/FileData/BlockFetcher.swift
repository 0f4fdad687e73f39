import Dispatch
import ImageDigests
import Storage
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Turns block references into decompressed bytes: from the cache, or by fetching every
/// missing block in as few range reads as possible (adjacent blocks merge), decompressing
/// each once even when many threads want it at the same moment.
final class BlockFetcher: Sendable {
    private final class Pending: @unchecked Sendable {
        // Written once by the fetching thread before `done.leave()`; read only after `done.wait()`.
        let done = DispatchGroup()
        var result: Result<Block, any Error>?
        init() { done.enter() }
    }

    private typealias Item = (reference: BlockReference, pending: Pending)

    private let source: any RangeSource
    private let imageName: String
    private let blockSize: Int
    /// Decompressed blocks in memory.
    private let cache: any BlockCache
    private let decompressors: DecompressorPool
    private let statistics: ReaderStatistics
    private let pending = Mutex<[UInt64: Pending]>([:])
    private let planner: FetchPlanner
    /// Background fetches in flight at once: enough to keep a readahead window of 8 MiB requests
    /// moving over a long round trip, few enough not to starve on-demand reads. A full 128 MiB
    /// window is 16 requests, so a few wait here and start as others finish: the link stays busy
    /// instead of idling while the reader takes a batch that landed all at once.
    private let prefetchQueue = BlockingWorkQueue(width: 12)
    /// Compressed blocks persisted across mounts; nil when the mount has no disk cache.
    private let diskCache: DiskBlockCache?
    /// Disk writes happen off the read path, on idle CPU only.
    private let diskWriter: DiskCacheWriter?
    /// Reads waiting on the network right now; hydration yields to them.
    private let onDemandFetches = Atomic<Int>(0)
    /// One block of zeros, sliced for every hole instead of a fresh buffer per sparse block.
    private let zeros: [UInt8]
    /// Digests every fetched block is checked against before it is cached or served; nil: unverified.
    private let digests: BlockDigestTable?
    /// Range reads under way, bounded by a share of the memory cache.
    private let budget: FetchBudget

    init(
        source: any RangeSource, imageName: String, blockSize: Int, cache: any BlockCache,
        decompressors: DecompressorPool, statistics: ReaderStatistics, maxRequestBytes: Int = 8 << 20,
        diskCache: DiskBlockCache? = nil, digests: BlockDigestTable? = nil, memoryBytes: Int? = nil
    ) {
        // What the fetcher holds besides the cache (bodies under way, bodies waiting for the
        // disk) is sized from the memory the mount was given for the cache.
        let memory = memoryBytes ?? (cache as? MemoryBlockCache)?.capacityBytes ?? ReaderOptions().cacheBytes
        self.diskCache = diskCache
        self.digests = digests
        diskWriter = diskCache.map {
            DiskCacheWriter(cache: $0, capBytes: DiskCacheWriter.capBytes(memoryBytes: memory))
        }
        budget = FetchBudget(cacheBytes: memory, requestBytes: maxRequestBytes)
        self.source = source
        self.imageName = imageName
        self.blockSize = blockSize
        zeros = [UInt8](repeating: 0, count: blockSize)
        self.cache = cache
        self.decompressors = decompressors
        self.statistics = statistics
        planner = FetchPlanner(maxRequestBytes: maxRequestBytes)
    }

    var isVerifying: Bool { digests != nil }

    func blocks(_ references: [BlockReference]) throws -> [Block] {
        var results = [Block?](repeating: nil, count: references.count)
        var toFetch = [(index: Int, reference: BlockReference, pending: Pending)]()
        var toAwait = [(index: Int, pending: Pending)]()
        for (index, reference) in references.enumerated() {
            if reference.isSparse {
                results[index] = zeros[..<min(reference.expectedSize ?? blockSize, blockSize)]
            } else if let cached = cache.cached(reference) {
                statistics.cacheHits.add(1, ordering: .relaxed)
                results[index] = cached
            }
        }
        pending.withLock { table in
            for (index, reference) in references.enumerated() where results[index] == nil {
                if let existing = table[reference.offset] {
                    toAwait.append((index, existing))
                } else if let mine = toFetch.first(where: { $0.reference.offset == reference.offset }) {
                    toAwait.append((index, mine.pending))
                } else {
                    let entry = Pending()
                    table[reference.offset] = entry
                    toFetch.append((index, reference, entry))
                }
            }
        }
        if !toFetch.isEmpty {
            statistics.cacheMisses.add(toFetch.count, ordering: .relaxed)
            onDemandFetches.add(1, ordering: .relaxed)
            defer { onDemandFetches.subtract(1, ordering: .relaxed) }
            do {
                try fetch(toFetch.map { ($0.reference, $0.pending) })
            } catch {
                for item in toFetch where item.pending.result == nil {
                    publish((item.reference, item.pending), .failure(error))
                }
                throw error
            }
            for item in toFetch { results[item.index] = try item.pending.result!.get() }
        }
        for item in toAwait {
            item.pending.done.wait()
            results[item.index] = try item.pending.result!.get()
        }
        return results.map { $0! }
    }

    /// Starts fetching `references` in the background unless they are cached or already coming;
    /// returns at once. Readers that later want these blocks wait for them instead of refetching.
    func prefetch(_ references: [BlockReference]) {
        var claimed = [Item]()
        pending.withLock { table in
            for reference in references where !reference.isSparse && table[reference.offset] == nil {
                if cache.contains(reference) { continue }
                let entry = Pending()
                table[reference.offset] = entry
                claimed.append((reference, entry))
            }
        }
        guard !claimed.isEmpty else { return }
        statistics.prefetchedBlocks.add(claimed.count, ordering: .relaxed)
        let batch = claimed
        prefetchQueue.submit { [self] in
            do {
                try fetch(batch)
            } catch {
                for item in batch where item.pending.result == nil { publish(item, .failure(error)) }
            }
        }
    }

    /// Waits until blocks fetched so far are written to the disk cache.
    func flushDiskWrites() { diskWriter?.flush() }

    /// Copies every block in `references` that the disk cache lacks into it, in large merged
    /// requests, `concurrency` at a time, pausing while on-demand reads wait on the network.
    /// Returns the bytes fetched.
    func hydrate(_ references: [BlockReference], concurrency: Int, isCancelled: () -> Bool) throws -> Int {
        guard let diskCache else { return 0 }
        // Presence is enough here; a damaged entry is caught and refetched when it is read.
        let runs = planner.runs(of: references, block: { $0 }, skip: { $0.isSparse || diskCache.contains($0) })
        var fetched = 0
        var next = 0
        while next < runs.count {
            if isCancelled() { break }
            while onDemandFetches.load(ordering: .relaxed) > 0 && !isCancelled() { usleep(2_000) }
            let batch = runs[next..<min(runs.count, next + max(concurrency, 1))]
            next += batch.count
            statistics.rangeRequests.add(batch.count, ordering: .relaxed)
            let payloads: [[UInt8]]
            do {
                payloads = try source.read(ranges: batch.map(\.range))
            } catch let error as StorageError {
                throw ImageError.storage(error)
            }
            for (run, payload) in zip(batch, payloads) {
                fetched += payload.count
                statistics.bytesFetched.add(payload.count, ordering: .relaxed)
                // A damaged block stays out of the cache; a read of it fails when it is fetched again.
                let verified = run.members.compactMap { reference -> (BlockReference, ArraySlice<UInt8>)? in
                    let stored = run.storedBytes(of: reference, in: payload)
                    return verify(stored, reference) == nil ? (reference, stored) : nil
                }
                diskCache.store(run: verified, slicesLargerBuffer: true)
            }
        }
        return fetched
    }

    private func publish(_ item: Item, _ result: Result<Block, any Error>) {
        if case .success(let bytes) = result {
            // Uncompressed blocks are slices of the range read; decompressed ones own their storage.
            cache.store(
                bytes, for: item.reference, slicesLargerBuffer: !BlockWord.isCompressed(item.reference.word))
        }
        item.pending.result = result
        pending.withLock { table in
            if table[item.reference.offset] === item.pending { table[item.reference.offset] = nil }
        }
        item.pending.done.leave()
    }

    /// Fetches, decompresses, caches and publishes `items`; throws only for fetch failures,
    /// while a corrupt block fails just that block.
    private func fetch(_ items: [Item]) throws {
        var missing = [Item]()
        for item in items {
            if let stored = diskCache?.cached(item.reference) {
                statistics.diskCacheHits.add(1, ordering: .relaxed)
                let result = decode(stored, item.reference)
                publish(item, result)
            } else {
                missing.append(item)
            }
        }
        guard !missing.isEmpty else { return }
        let runs = planner.runs(of: missing, block: \.reference)
        statistics.rangeRequests.add(runs.count, ordering: .relaxed)
        // Each run is fetched, decoded and published on its own thread: readers waiting on the
        // first blocks of a readahead window get them as soon as their run lands, and the
        // decompression of a window spreads over the cores instead of trailing the last fetch.
        // (At most 16 at once, as many as a remote source sends in parallel anyway.)
        let work = runs
        let failures = try ParallelWork.map(count: work.count, width: 16) {
            [self] index -> StorageError? in
            let run = work[index]
            return try budget.spending(run.range.length) { try fetchAndPublish(run) }
        }
        if let failure = failures.compactMap({ $0 }).first { throw ImageError.storage(failure) }
    }

    /// Fetches one run, then checks, decompresses and publishes its blocks and hands them to the
    /// disk writer; returns the failure of its request, if it failed.
    private func fetchAndPublish(_ run: FetchPlanner.Run<Item>) throws -> StorageError? {
        statistics.requestsInFlight.add(1, ordering: .relaxed)
        let started = ContinuousClock.now
        let payload: [UInt8]
        do {
            defer {
                statistics.requestsInFlight.subtract(1, ordering: .relaxed)
                let elapsed = ContinuousClock.now - started
                statistics.recordLatency(
                    seconds: elapsed / .seconds(1))
            }
            payload = try source.read(run.range)
        } catch let error as StorageError {
            for member in run.members { publish(member, .failure(ImageError.storage(error))) }
            return error
        }
        statistics.bytesFetched.add(payload.count, ordering: .relaxed)
        var persist = [(offset: UInt64, bytes: ArraySlice<UInt8>)]()
        let checks = concurrentChecks(of: run, payload)
        for (index, member) in run.members.enumerated() {
            let stored = run.storedBytes(of: member.reference, in: payload)
            let result = self.result(of: stored, member.reference, at: index, checks: checks)
            if case .success = result, diskWriter != nil { persist.append((member.reference.offset, stored)) }
            publish(member, result)
        }
        // Slices of the run's one body: held in the writer's queue, they keep no copy.
        if !persist.isEmpty { diskWriter?.enqueue(blocks: persist, pinnedBytes: payload.count) }
        return nil
    }

    /// Why `stored`, just fetched, must not be used: it differs from the digest recorded at create
    /// (or the table has no such block). nil when it checks out, or when reads are unverified.
    private func verify(_ stored: ArraySlice<UInt8>, _ reference: BlockReference) -> ImageError? {
        guard let digests, digests.check(stored, at: reference.offset) != .verified else { return nil }
        return damaged(stored, reference)
    }

    /// A fetched block as its data, or why not; with `checks`, decompressed while its digest is
    /// checked on another core, and used only once the check says it is intact.
    private func result(of stored: ArraySlice<UInt8>, _ reference: BlockReference, at index: Int, checks: RunChecks?)
        -> Result<Block, any Error>
    {
        guard let checks else { return verify(stored, reference).map { .failure($0) } ?? decode(stored, reference) }
        let decoded = decode(stored, reference, counting: false)
        guard checks.isIntact(index) else { return .failure(damaged(stored, reference)) }
        if case .failure = decoded { statistics.corruptBlocks.add(1, ordering: .relaxed) }
        return decoded
    }

    private func damaged(_ stored: ArraySlice<UInt8>, _ reference: BlockReference) -> ImageError {
        statistics.corruptBlocks.add(1, ordering: .relaxed)
        return .damagedBlock(image: imageName, offset: reference.offset, length: stored.count)
    }

    /// The checks of a run's blocks started on another core, when the run has compressed blocks
    /// to decompress meanwhile; nil when reads are unverified or there is nothing to overlap.
    private func concurrentChecks(of run: FetchPlanner.Run<Item>, _ payload: [UInt8]) -> RunChecks? {
        guard let digests, run.members.contains(where: { BlockWord.isCompressed($0.reference.word) }) else {
            return nil
        }
        return RunChecks(
            blocks: run.members.map { ($0.reference.offset, run.storedBytes(of: $0.reference, in: payload)) },
            table: digests)
    }

    /// A stored block as its data: decompressed, or (stored uncompressed) the slice itself.
    /// `counting`: whether a block that does not decode counts as corrupt now (not while its
    /// digest check is still out).
    private func decode(_ stored: ArraySlice<UInt8>, _ reference: BlockReference, counting: Bool = true)
        -> Result<Block, any Error>
    {
        let bytes: Block?
        if BlockWord.isCompressed(reference.word) {
            bytes = stored.withUnsafeBytes { raw in
                (try? decompressors.withDecompressor { $0.decompress(raw, capacity: blockSize) })?[...]
            }
        } else {
            bytes = stored
        }
        guard let bytes, reference.expectedSize.map({ $0 == bytes.count }) ?? (bytes.count <= blockSize) else {
            if counting { statistics.corruptBlocks.add(1, ordering: .relaxed) }
            return .failure(
                ImageError.corrupt(
                    image: imageName,
                    reason: "data block at offset \(reference.offset) (\(reference.storedSize) bytes) does not decode"
                        + (reference.expectedSize.map { " to \($0) bytes" } ?? "")))
        }
        return .success(bytes)
    }
}

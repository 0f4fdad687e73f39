import Crypto
import Foundation
import ImageDigests
import SquashReader
import Storage

/// Reads a whole backup back from its store and checks it against what create recorded: every
/// block against the digest table beside the image, the table against meta.json, and the image
/// against meta.json's whole-image hash. The reads run in parallel like a download; nothing is
/// written. The spec's "test restores periodically", without the restore.
///
/// When the table covers every byte of the image (`TableCoverage`), the block checks alone decide
/// the image hash and it is not computed again: one SHA-256 pass over the bytes, spread over the
/// reading threads, instead of a second one in order on the consuming thread.
public struct BackupVerifier: Sendable {
    public let catalog: BackupCatalog
    /// Size of each ranged read (an image uploaded in parts whose hash is recomputed is read a part
    /// at a time when its parts are at most `maximumRangeBytes`, so each part's hash is computed
    /// where it is read).
    public var rangeBytes = 8 << 20
    /// The largest part read as one range.
    public var maximumRangeBytes = 64 << 20
    /// Ranged reads in flight at once.
    public var parallelReads = 8
    /// Set to stop a verify between ranges; it then throws OPERATION_INTERRUPTED.
    public var cancellation: CancellationFlag?
    /// Recompute the whole-image hash even when the digest table proves the image: a check of
    /// meta.json's `sha256`/`compositeSha256` themselves, at the cost of a second SHA-256 pass.
    public var recomputeImageHash = false

    public init(catalog: BackupCatalog) {
        self.catalog = catalog
    }

    /// Verifies backup `id`. Damage is reported in the result, never thrown; throws
    /// BACKUP_NOT_FOUND / BACKUP_EXPIRED like a restore, and the store's error when a read fails.
    public func verify(id: String, progress: (@Sendable (VerifyProgress) -> Void)? = nil) throws -> VerifyReport {
        let meta = try catalog.show(id)
        let source = try catalog.resolve(id)
        do {
            return try verify(meta: meta, source: source, progress: progress)
        } catch {
            throw BackupError.wrapping(error, as: .restoreFailed)
        }
    }

    private func verify(meta: BackupMetadata, source: any RangeSource, progress: (@Sendable (VerifyProgress) -> Void)?)
        throws -> VerifyReport
    {
        let table = try loadTable(meta: meta, imageSize: source.size)
        var notes: [String] = []
        if case .damaged(let why) = table { notes.append("the digest table of backup \(meta.id) is damaged: \(why)") }
        let checks = table.intact.map(BlockChecks.init)
        let expected = WholeImageHash.expected(for: meta)
        let coverage = expected == nil ? nil : table.intact.flatMap { TableCoverage(table: $0, imageSize: source.size) }
        var hash = coverage == nil || recomputeImageHash ? expected.map(WholeImageHash.init) : nil
        let partSize = hash?.partSize.flatMap { $0 <= maximumRangeBytes ? $0 : nil }
        let ranges = Self.ranges(size: source.size, rangeBytes: partSize ?? rangeBytes)
        var spanning = BlockChecks.Spanning()
        var damagedEntries: [BlockDigestTable.Entry] = []
        var paddingIsZero = true
        var checked: UInt64 = 0
        let started = Date()
        try OrderedRangeReader<CheckedRange>.run(
            source: source, ranges: ranges, width: parallelReads, cancellation: cancellation
        ) { range, bytes in
            CheckedRange(
                damaged: checks?.inside(range, bytes) ?? [],
                partDigest: partSize == range.length && range.offset % UInt64(range.length) == 0
                    ? Array(SHA256.hash(data: bytes)) : nil)
        } consume: { range, bytes, result in
            hash?.feed(bytes[...], digest: result.partDigest)
            damagedEntries += result.damaged
            if let checks { damagedEntries += spanning.feed(range, bytes, table: checks.table) }
            if let coverage, !coverage.paddingIsZero(range, bytes) { paddingIsZero = false }
            checked += UInt64(bytes.count)
            progress?(
                VerifyProgress(
                    id: meta.id, bytesChecked: checked, bytesTotal: source.size,
                    elapsed: Date().timeIntervalSince(started)))
        }
        var damaged = damagedEntries.sorted { $0.offset < $1.offset }.map {
            DamagedRegion(offset: $0.offset, length: $0.length, kind: DamagedRegion.Kind($0.kind))
        }
        notes += name(&damaged, in: source)
        let imageHash: VerifyReport.ImageHash
        if var hash {
            imageHash = hash.matches() ? .ok : .mismatch
        } else if coverage != nil {
            imageHash = damaged.isEmpty && paddingIsZero ? .ok : .mismatch
        } else {
            imageHash = .absent
        }
        return VerifyReport(
            id: meta.id, verified: table.intact != nil, bytesChecked: checked, tableOk: table.isOk,
            imageHash: imageHash, imageHashFromBlocks: hash == nil && coverage != nil, damaged: damaged, notes: notes)
    }

    /// Fills in the files that damaged data and fragment blocks belong to, from the image's own
    /// metadata; returns why it could not (the metadata is damaged too, or does not decode).
    private func name(_ damaged: inout [DamagedRegion], in source: any RangeSource) -> [String] {
        guard damaged.contains(where: { $0.kind == .data || $0.kind == .fragment }) else { return [] }
        if damaged.contains(where: { $0.kind == .metadata || $0.kind == .superblock }) {
            return ["the metadata is damaged, so it was not decoded: the files in damaged blocks are unknown"]
        }
        do {
            let image = try SquashImage.open(source)
            let owners = image.files(storedIn: damaged.map { ByteRange(offset: $0.offset, length: Int($0.length)) })
            for index in damaged.indices { damaged[index].files = owners[index] }
            return []
        } catch {
            return ["the files in damaged blocks are unknown: \(error)"]
        }
    }

    /// The consecutive ranges of at most `rangeBytes` that cover `0 ..< size`.
    static func ranges(size: UInt64, rangeBytes: Int) -> [ByteRange] {
        stride(from: UInt64(0), to: size, by: rangeBytes).map { offset in
            ByteRange(offset: offset, length: Int(min(UInt64(rangeBytes), size - offset)))
        }
    }
}

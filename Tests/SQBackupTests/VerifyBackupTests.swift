import BackupTestSupport
import Foundation
import SQBackup
import Storage
import Synchronization
import TestSupport
import Testing

@Suite("BackupVerifier: every block, the table and the image hash, in the local store and on moto")
struct VerifyBackupTests {
    /// Small ranges make every data block span two ranges (checked piece by piece, in order);
    /// the default ones hold whole blocks (checked where they are read).
    static let cases: [(CatalogStoreKind, Int)] = CatalogStoreKind.allCases.flatMap { [($0, 50_000), ($0, 8 << 20)] }

    func verifier(_ damaged: DamagedBackupFixture, rangeBytes: Int) -> BackupVerifier {
        var verifier = BackupVerifier(catalog: damaged.fixture.catalog)
        verifier.rangeBytes = rangeBytes
        verifier.parallelReads = 4
        return verifier
    }

    @Test("an intact backup verifies: every byte read, the table and the image hash match", arguments: cases)
    func intact(kind: CatalogStoreKind, rangeBytes: Int) throws {
        let work = try TemporaryDirectory("verify-intact")
        defer { work.remove() }
        let damaged = try DamagedBackupFixture.make(kind, work: work)
        defer { damaged.fixture.cleanup() }
        let seen = ProgressRecorder()
        let report = try verifier(damaged, rangeBytes: rangeBytes).verify(id: damaged.id) { seen.add($0) }
        #expect(report.ok && report.verified && report.tableOk == true)
        #expect(report.imageHash == .ok && report.imageHashFromBlocks)
        #expect(report.damaged == [])
        #expect(report.bytesChecked == damaged.backup.sizeBytes)
        #expect(report.damageError == nil)
        #expect(seen.last?.bytesChecked == damaged.backup.sizeBytes)
        #expect(seen.checked == seen.checked.sorted())
    }

    @Test(
        "a flipped byte in a data block names that block and big.bin; in a fragment, the tails there", arguments: cases)
    func damagedBlocks(kind: CatalogStoreKind, rangeBytes: Int) throws {
        let work = try TemporaryDirectory("verify-data")
        defer { work.remove() }
        let damaged = try DamagedBackupFixture.make(kind, work: work)
        defer { damaged.fixture.cleanup() }
        let block = damaged.dataBlocks[2]
        let fragment = try #require(damaged.fragmentBlocks.first)
        try damaged.flipByte(at: block.offset + UInt64(block.length / 2))
        try damaged.flipByte(at: fragment.offset + 1)
        let report = try verifier(damaged, rangeBytes: rangeBytes).verify(id: damaged.id)
        #expect(!report.ok && report.tableOk == true)
        #expect(report.imageHash == .mismatch && report.imageHashFromBlocks)
        #expect(
            report.damaged == [
                DamagedRegion(offset: block.offset, length: UInt32(block.length), kind: .data, files: ["big.bin"]),
                DamagedRegion(
                    offset: fragment.offset, length: UInt32(fragment.length), kind: .fragment,
                    files: ["big.bin", "notes/a.txt", "notes/b.txt"]),
            ])
        let error = try #require(report.damageError)
        #expect(error.code == .damaged && error.code.rawValue == "BACKUP_DAMAGED")
        #expect(error.message.contains("2 damaged blocks"))
    }

    @Test("a flipped byte in the metadata is metadata damage; it is not decoded to name files", arguments: cases)
    func damagedMetadata(kind: CatalogStoreKind, rangeBytes: Int) throws {
        let work = try TemporaryDirectory("verify-metadata")
        defer { work.remove() }
        let damaged = try DamagedBackupFixture.make(kind, work: work)
        defer { damaged.fixture.cleanup() }
        try damaged.flipByte(at: damaged.metadata.offset + UInt64(damaged.metadata.length / 2))
        try damaged.flipByte(at: damaged.dataBlocks[0].offset + 5)
        let report = try verifier(damaged, rangeBytes: rangeBytes).verify(id: damaged.id)
        #expect(!report.ok && report.metadataDamaged)
        #expect(report.damaged.map(\.kind) == [.data, .metadata])
        #expect(report.damaged.last?.offset == damaged.metadata.offset)
        #expect(report.damaged.allSatisfy { $0.files.isEmpty })
        #expect(report.notes.contains { $0.contains("metadata is damaged") })
        #expect(report.damageError?.message.contains("the metadata among them") == true)
    }

    @Test("a damaged digest table is reported as such, not as damaged blocks", arguments: CatalogStoreKind.allCases)
    func damagedTable(kind: CatalogStoreKind) throws {
        let work = try TemporaryDirectory("verify-table")
        defer { work.remove() }
        let damaged = try DamagedBackupFixture.make(kind, work: work)
        defer { damaged.fixture.cleanup() }
        try damaged.flipByte(at: 24 + 48 + 20, of: "blocks.sha256")  // inside the second record's digest
        let report = try BackupVerifier(catalog: damaged.fixture.catalog).verify(id: damaged.id)
        #expect(!report.ok && report.verified == false && report.tableOk == false)
        #expect(report.damaged == [])
        #expect(report.imageHash == .ok)
        #expect(report.damageError?.message.hasPrefix("the digest table of backup \(damaged.id) is damaged") == true)

        try damaged.fixture.store.delete("backups/\(damaged.id)/blocks.sha256")
        let missing = try BackupVerifier(catalog: damaged.fixture.catalog).verify(id: damaged.id)
        #expect(missing.tableOk == false && missing.notes.contains { $0.contains("missing") })
    }

    @Test("without digests: unverified, the whole-image hash still checked", arguments: CatalogStoreKind.allCases)
    func withoutDigests(kind: CatalogStoreKind) throws {
        let work = try TemporaryDirectory("verify-unverified")
        defer { work.remove() }
        let damaged = try DamagedBackupFixture.make(kind, work: work)
        defer { damaged.fixture.cleanup() }
        try damaged.dropDigests()
        let report = try BackupVerifier(catalog: damaged.fixture.catalog).verify(id: damaged.id)
        #expect(report.ok && !report.verified && report.tableOk == nil)
        #expect(report.imageHash == .ok)
        #expect(report.bytesChecked == damaged.backup.sizeBytes)

        try damaged.flipByte(at: damaged.dataBlocks[1].offset)
        let after = try BackupVerifier(catalog: damaged.fixture.catalog).verify(id: damaged.id)
        #expect(!after.ok && !after.verified && after.imageHash == .mismatch && after.damaged == [])
    }

    @Test("a multipart image on moto: the composite hash is checked part by part and a flip is found")
    func multipartOnMoto() throws {
        let work = try TemporaryDirectory("verify-multipart")
        defer { work.remove() }
        let damaged = try DamagedBackupFixture.make(.s3, work: work, bigFileBytes: 12 << 20, minimumPartSize: 5 << 20)
        defer { damaged.fixture.cleanup() }
        let composite = try #require(damaged.backup.compositeSha256)
        #expect(composite.partCount == 3)
        for rangeBytes in [50_000, 8 << 20] {
            var verifier = verifier(damaged, rangeBytes: rangeBytes)
            verifier.maximumRangeBytes = rangeBytes  // 50 KB: parts hashed piece by piece; 8 MiB: a part per read
            verifier.recomputeImageHash = true
            let report = try verifier.verify(id: damaged.id)
            #expect(report.ok && report.imageHash == .ok && !report.imageHashFromBlocks, "range \(rangeBytes)")
        }
        let block = damaged.dataBlocks[60]  // in the second part
        try damaged.flipByte(at: block.offset + 7)
        for recompute in [false, true] {
            var verifier = BackupVerifier(catalog: damaged.fixture.catalog)
            verifier.recomputeImageHash = recompute
            let report = try verifier.verify(id: damaged.id)
            #expect(report.imageHash == .mismatch && report.imageHashFromBlocks == !recompute)
            #expect(report.damaged.map(\.offset) == [block.offset] && report.damaged.first?.files == ["big.bin"])
        }
    }

    @Test("a flipped byte in the padding after the metadata: the image differs, though no block does")
    func damagedPadding() throws {
        let work = try TemporaryDirectory("verify-padding")
        defer { work.remove() }
        let damaged = try DamagedBackupFixture.make(.local, work: work)
        defer { damaged.fixture.cleanup() }
        try #require(damaged.metadata.end < damaged.backup.sizeBytes, "the image has no padding to damage")
        try damaged.flipByte(at: damaged.backup.sizeBytes - 1)
        let report = try BackupVerifier(catalog: damaged.fixture.catalog).verify(id: damaged.id)
        #expect(!report.ok && report.imageHashFromBlocks)
        #expect(report.imageHash == .mismatch && report.damaged == [])
    }

    @Test("recomputeImageHash checks meta.json's own hash, which the block digests alone cannot")
    func recomputedImageHash() throws {
        let work = try TemporaryDirectory("verify-recompute")
        defer { work.remove() }
        let damaged = try DamagedBackupFixture.make(.local, work: work)
        defer { damaged.fixture.cleanup() }
        var verifier = BackupVerifier(catalog: damaged.fixture.catalog)
        verifier.recomputeImageHash = true
        let intact = try verifier.verify(id: damaged.id)
        #expect(intact.ok && intact.imageHash == .ok && !intact.imageHashFromBlocks)

        let metaKey = "backups/\(damaged.id)/meta.json"
        var object =
            try JSONSerialization.jsonObject(with: Data(try damaged.fixture.store.get(metaKey))) as! [String: Any]
        let recorded = try #require(object["sha256"] as? String)
        object["sha256"] = String(repeating: "0", count: recorded.count)
        try damaged.fixture.store.put(metaKey, bytes: Array(try JSONSerialization.data(withJSONObject: object)))
        #expect(try verifier.verify(id: damaged.id).imageHash == .mismatch)
        let fromBlocks = try BackupVerifier(catalog: damaged.fixture.catalog).verify(id: damaged.id)
        #expect(fromBlocks.ok && fromBlocks.imageHashFromBlocks)
    }

    @Test("a missing backup is BACKUP_NOT_FOUND")
    func missing() throws {
        let fixture = try CatalogStoreKind.local.make()
        defer { fixture.cleanup() }
        #expect {
            try BackupVerifier(catalog: fixture.catalog).verify(id: BackupID.generate())
        } throws: { ($0 as? BackupError)?.code == .notFound }
    }
}

/// Collects progress reports from the verifier.
final class ProgressRecorder: Sendable {
    private let reports = Mutex<[VerifyProgress]>([])
    func add(_ progress: VerifyProgress) { reports.withLock { $0.append(progress) } }
    var last: VerifyProgress? { reports.withLock { $0.last } }
    var checked: [UInt64] { reports.withLock { $0.map(\.bytesChecked) } }
}

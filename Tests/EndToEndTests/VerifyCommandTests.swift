import BackupTestSupport
import Foundation
import SQBackup
import TestSupport
import Testing

@Suite("sqbackup verify, end to end, in the local store and on moto")
struct VerifyCommandTests {
    @Test(
        "intact: OK and exit 0; a flipped data byte: exit 1, the block and big.bin named",
        arguments: CatalogStoreKind.allCases)
    func verifyCommand(kind: CatalogStoreKind) throws {
        let work = try TemporaryDirectory("verify-cli")
        defer { work.remove() }
        let damaged = try DamagedBackupFixture.make(kind, work: work)
        defer { damaged.fixture.cleanup() }

        let intact = try damaged.fixture.run(["verify", damaged.id])
        #expect(intact.status == 0, "\(intact.stderr)")
        #expect(intact.stdout.contains("\(damaged.id): OK"))
        #expect(intact.stderr.isEmpty, "no progress when piped: \(intact.stderr)")

        let block = damaged.dataBlocks[1]
        try damaged.flipByte(at: block.offset + 100)
        let broken = try damaged.fixture.run(["verify", damaged.id])
        #expect(broken.status == 6)
        #expect(broken.stdout.contains("\(damaged.id): DAMAGED"))
        #expect(broken.stdout.contains("data block at offset \(block.offset), \(block.length) bytes: big.bin"))
        #expect(broken.stderr.contains("BACKUP_DAMAGED"))

        let json = try damaged.fixture.run(["verify", "--json", damaged.id])
        #expect(json.status == 6)
        let reports = try JSONDecoder().decode([VerifyReport].self, from: Data(json.stdout.utf8))
        #expect(reports.count == 1)
        #expect(reports.first?.ok == false && reports.first?.imageHash == .mismatch)
        #expect(
            reports.first?.damaged
                == [DamagedRegion(offset: block.offset, length: UInt32(block.length), kind: .data, files: ["big.bin"])])
    }

    @Test("several ids: a missing one is BACKUP_NOT_FOUND, the others are still checked; metadata and table damage")
    func severalIDs() throws {
        let work = try TemporaryDirectory("verify-cli-many")
        defer { work.remove() }
        let damaged = try DamagedBackupFixture.make(.local, work: work)
        defer { damaged.fixture.cleanup() }
        let missing = BackupID.generate()
        let both = try damaged.fixture.run(["verify", missing, damaged.id])
        #expect(both.status == 4)
        #expect(both.stderr.contains("BACKUP_NOT_FOUND") && both.stderr.contains(missing))
        #expect(both.stdout.contains("\(damaged.id): OK"))

        try damaged.flipByte(at: 30, of: "blocks.sha256")
        let table = try damaged.fixture.run(["verify", damaged.id])
        #expect(table.status == 6)
        #expect(table.stderr.contains("BACKUP_DAMAGED: the digest table of backup \(damaged.id) is damaged"))
        try damaged.flipByte(at: 30, of: "blocks.sha256")

        try damaged.flipByte(at: damaged.metadata.offset + 3)
        let metadata = try damaged.fixture.run(["verify", "--json", damaged.id])
        #expect(metadata.status == 6)
        let mixed = try damaged.fixture.run(["verify", damaged.id, missing])
        #expect(mixed.status == 1, "damaged and missing: the failures differ")
        let reports = try JSONDecoder().decode([VerifyReport].self, from: Data(metadata.stdout.utf8))
        #expect(reports.first?.damaged.map(\.kind) == [.metadata])
        let text = try damaged.fixture.run(["verify", damaged.id])
        #expect(text.stdout.contains("metadata damaged at offset \(damaged.metadata.offset)"))
    }

    @Test("a backup without digests is unverified; its image hash still checked", arguments: CatalogStoreKind.allCases)
    func unverified(kind: CatalogStoreKind) throws {
        let work = try TemporaryDirectory("verify-cli-unverified")
        defer { work.remove() }
        let damaged = try DamagedBackupFixture.make(kind, work: work)
        defer { damaged.fixture.cleanup() }
        try damaged.dropDigests()
        let result = try damaged.fixture.run(["verify", "--json", damaged.id])
        #expect(result.status == 0, "\(result.stderr)")
        let reports = try JSONDecoder().decode([VerifyReport].self, from: Data(result.stdout.utf8))
        #expect(reports.first?.verified == false && reports.first?.imageHash == .ok)
        let text = try damaged.fixture.run(["verify", damaged.id])
        #expect(text.stdout.contains("unverified") && text.stdout.contains("the image hash matches"))
        try damaged.flipByte(at: damaged.dataBlocks[0].offset)
        let broken = try damaged.fixture.run(["verify", damaged.id])
        #expect(broken.status == 6 && broken.stdout.contains("the image differs from the hash meta.json records"))
    }
}

import BackupTestSupport
import Foundation
import SQBackup
import Storage
import TestSupport
import Testing

@Suite("--quiet, --verbose and prune --dry-run, end to end", .serialized)
struct OutputLevelTests {
    @Test("--quiet: create prints only the id; restore, delete, prune and unmount print nothing on success")
    func quiet() throws {
        let work = try TemporaryDirectory("cli-quiet")
        defer { work.remove() }
        let fixture = try CatalogStoreKind.local.make()
        defer { fixture.cleanup() }
        let source = try CreateFixture.standardTree(in: work)

        let created = try fixture.run(["create", source, "--quiet"])
        #expect(created.status == 0, "\(created.stderr)")
        let id = created.stdout.trimmingCharacters(in: .newlines)
        #expect(UUID(uuidString: id) != nil, "not just an id: \(created.stdout)")
        #expect(created.stderr.isEmpty, "\(created.stderr)")

        for arguments in [
            ["restore", id, "--target", work.child("restored"), "--quiet"],
            ["restore", id, "--target", work.child("restored"), "--force", "-q"],
            ["verify", id, "--quiet"],
            ["prune", "-q"],
            ["delete", id, "--quiet"],
        ] {
            let result = try fixture.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(
                result.stdout.isEmpty && result.stderr.isEmpty, "\(arguments) printed: \(result.stdout)\(result.stderr)"
            )
        }

        let missing = try fixture.run(["show", id, "--quiet"])
        #expect(
            missing.status == 4 && missing.stderr.contains("BACKUP_NOT_FOUND"), "errors still show: \(missing.stderr)")
        let both = try fixture.run(["list", "--quiet", "--verbose"])
        #expect(both.status == 64 && both.stderr.contains("--quiet and --verbose"))
    }

    @Test("--verbose: debug lines with request counts and timings on stderr; none without it")
    func verbose() throws {
        let work = try TemporaryDirectory("cli-verbose")
        defer { work.remove() }
        let fixture = try CatalogStoreKind.local.make()
        defer { fixture.cleanup() }
        let source = try CreateFixture.standardTree(in: work)
        let id = try fixture.run(["create", source, "--quiet"]).stdout.trimmingCharacters(in: .newlines)

        let restored = try fixture.run(["restore", id, "--target", work.child("restored"), "--verbose"])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(restored.stderr.contains("debug"), "\(restored.stderr)")
        #expect(restored.stderr.contains("requests=") && restored.stderr.contains("seconds="), "\(restored.stderr)")
        #expect(restored.stdout.contains("restored \(work.child("restored"))"))

        let created = try fixture.run(["create", source, "-v"])
        #expect(created.status == 0 && created.stderr.contains("debug"), "\(created.stderr)")

        let plain = try fixture.run(["restore", id, "--target", work.child("plain")])
        #expect(plain.status == 0 && !plain.stderr.contains("debug"), "\(plain.stderr)")
    }

    @Test("prune --dry-run lists the expired backups and deletes nothing")
    func pruneDryRun() throws {
        let fixture = try CatalogStoreKind.local.make()
        defer { fixture.cleanup() }
        let live = try fixture.seed(createdAt: Date())
        let expired = try fixture.seed(createdAt: Date().addingTimeInterval(-8 * 86400))
        let objectsBefore = try fixture.store.listAll(prefix: "backups/", pageSize: 1000).map(\.key).sorted()

        let text = try fixture.run(["prune", "--dry-run"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("would delete expired backup \(expired.id)") && !text.stdout.contains(live.id))
        let quiet = try fixture.run(["prune", "--dry-run", "--quiet"])
        #expect(quiet.stdout.contains(expired.id), "a dry run's list is the output asked for")

        let json = try fixture.run(["prune", "--dry-run", "--json"])
        let report = try jsonObject(json.stdout)
        #expect(report["dryRun"] as? Bool == true)
        #expect((report["expired"] as? [[String: Any]])?.map { $0["id"] as? String } == [expired.id])
        #expect(try fixture.store.listAll(prefix: "backups/", pageSize: 1000).map(\.key).sorted() == objectsBefore)
        #expect(Set(try fixture.catalog.list().backups.map(\.id)) == [live.id, expired.id])

        #expect(try fixture.run(["prune"]).status == 0)
        #expect(try fixture.catalog.list().backups.map(\.id) == [live.id])
    }
}

import BackupTestSupport
import Foundation
import RemoteStorage
import SQBackup
import TestSupport
import Testing

/// The CLI against a bucket that speaks only HTTPS (nginx with a certificate of the test CA in
/// front of moto): every way of naming the CA reaches libcurl, the mount daemon included, and an
/// untrusted certificate is refused with a message that says so.
@Suite("sqbackup over HTTPS: CA bundles and untrusted certificates, end to end", .serialized)
struct HTTPSCommandTests {
    /// One way of telling the CLI which CAs to trust.
    enum TrustSource: String, CaseIterable, CustomStringConvertible, Sendable {
        case awsCABundle = "AWS_CA_BUNDLE"
        case curlCABundle = "CURL_CA_BUNDLE"
        case sslCertFile = "SSL_CERT_FILE"
        case flag = "--ca-bundle"

        var description: String { rawValue }
    }

    private struct Fixture {
        let work: TemporaryDirectory
        let catalog: CatalogFixture
        let backup: BackupMetadata
        let source: String
        let authority: TestCertificateAuthority
        let peer: String
        /// The bucket's environment without any CA setting.
        let untrusted: [String: String]
    }

    private func makeFixture() throws -> Fixture {
        let work = try TemporaryDirectory("cli-https")
        let catalog = try CatalogStoreKind.s3OverTLS.make()
        let (source, image) = try smallImage(in: work)
        let backup = try catalog.seed(image: image)
        let untrusted = catalog.environment.merging(S3Transport.caVariables()) { $1 }
        let endpoint = try #require(untrusted["BACKUP_BUCKET_ENDPOINT"])
        #expect(endpoint.hasPrefix("https://127.0.0.1:"))
        return Fixture(
            work: work, catalog: catalog, backup: backup, source: source,
            authority: try TestCertificateAuthority.shared(), peer: String(endpoint.dropFirst("https://".count)),
            untrusted: untrusted)
    }

    @Test("each CA setting is honoured, by the CLI and by the mount daemon it starts", arguments: TrustSource.allCases)
    func trustSource(_ trust: TrustSource) throws {
        let fixture = try makeFixture()
        defer { fixture.work.remove() }
        var environment = fixture.untrusted
        var flags: [String] = []
        if trust == .flag {
            flags = ["--ca-bundle", fixture.authority.certificatePath]
        } else {
            environment[trust.rawValue] = fixture.authority.certificatePath
        }
        let listed = try SQBackupBinary.run(["list", "--json"] + flags, environment: environment)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains(fixture.backup.id))

        guard try requireFuse() else { return }
        let mountpoint = fixture.work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        let mounted = try SQBackupBinary.run(
            ["mount", fixture.backup.id, mountpoint] + flags, environment: environment)
        #expect(mounted.status == 0, "\(mounted.stderr)")
        defer { _ = try? SQBackupBinary.run(["unmount", mountpoint]) }
        var comparison = TreeComparison()
        comparison.compareRoot = false
        #expect(comparison.differences(expected: fixture.source, actual: mountpoint).isEmpty)
    }

    @Test("no CA given: list, create, mount by id and mount by URL are refused, naming the certificate and server")
    func untrustedCertificate() throws {
        let fixture = try makeFixture()
        defer { fixture.work.remove() }
        let secret = try #require(fixture.untrusted["R2_SECRET_ACCESS_KEY"])
        func expectRefused(_ result: Shell.Output, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(result.status == 1, "\(what) succeeded", sourceLocation: sourceLocation)
            let text = result.stderr
            #expect(
                text.contains("certificate") && text.contains(fixture.peer) && text.contains("--ca-bundle"),
                "\(what): \(text)", sourceLocation: sourceLocation)
            #expect(text.contains("INVALID_BACKUP_CONFIG"), "\(what): \(text)", sourceLocation: sourceLocation)
            #expect(!text.contains(secret) && !text.contains("X-Amz-Signature"), sourceLocation: sourceLocation)
            #expect(!text.contains("Fatal error"), sourceLocation: sourceLocation)
        }
        expectRefused(try SQBackupBinary.run(["list"], environment: fixture.untrusted), "list")
        let created = try SQBackupBinary.run(["create", fixture.source], environment: fixture.untrusted)
        expectRefused(created, "create")
        #expect(created.stderr.contains("R2"), "the spec's callers look for R2: \(created.stderr)")
        // A CA that did not sign the server's certificate does not help, and the flag beats the
        // variable that names the right one.
        var mixed = fixture.catalog.environment
        mixed["SSL_CERT_FILE"] = fixture.authority.unrelatedCertificatePath
        expectRefused(
            try SQBackupBinary.run(
                ["list", "--ca-bundle", fixture.authority.unrelatedCertificatePath], environment: mixed),
            "list with the wrong --ca-bundle")
        // AWS_CA_BUNDLE (the right CA) beats SSL_CERT_FILE (the wrong one) for a store.
        let preferred = try SQBackupBinary.run(["list"], environment: mixed)
        #expect(preferred.status == 0, "\(preferred.stderr)")

        guard try requireFuse() else { return }
        let mountpoint = fixture.work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        expectRefused(
            try SQBackupBinary.run(["mount", fixture.backup.id, mountpoint], environment: fixture.untrusted),
            "mount by id")
        let store = try #require(fixture.catalog.store as? S3Store)
        let url = store.presignedURL(for: "backups/\(fixture.backup.id)/data.sqsh")
        expectRefused(
            try SQBackupBinary.run(["mount", url, mountpoint], environment: S3Transport.caVariables()), "mount by URL")
        #expect(!MountTable.isMounted(mountpoint))
    }

    @Test("a CA file that does not exist is INVALID_BACKUP_CONFIG naming the file (and the variable)")
    func missingCAFile() throws {
        let fixture = try makeFixture()
        defer { fixture.work.remove() }
        let missing = fixture.work.child("no-such-ca.pem")
        let flagged = try SQBackupBinary.run(["list", "--ca-bundle", missing], environment: fixture.untrusted)
        #expect(flagged.status == 1)
        #expect(
            flagged.stderr.contains("INVALID_BACKUP_CONFIG") && flagged.stderr.contains(missing), "\(flagged.stderr)")
        var environment = fixture.untrusted
        environment["AWS_CA_BUNDLE"] = missing
        let variable = try SQBackupBinary.run(["list"], environment: environment)
        #expect(variable.status == 1)
        #expect(
            variable.stderr.contains(missing) && variable.stderr.contains("AWS_CA_BUNDLE")
                && variable.stderr.contains("INVALID_BACKUP_CONFIG"), "\(variable.stderr)")
        let store = try #require(fixture.catalog.store as? S3Store)
        let url = store.presignedURL(for: "backups/\(fixture.backup.id)/data.sqsh")
        let mountpoint = fixture.work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        let mounted = try SQBackupBinary.run(
            ["mount", url, mountpoint], environment: S3Transport.caVariables(["CURL_CA_BUNDLE": missing]))
        #expect(mounted.status == 1)
        #expect(
            mounted.stderr.contains(missing) && mounted.stderr.contains("CURL_CA_BUNDLE")
                && !mounted.stderr.contains("X-Amz-Signature"), "\(mounted.stderr)")
    }
}

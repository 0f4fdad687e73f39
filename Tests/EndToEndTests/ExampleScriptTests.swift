import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// One shipped script per pattern of the spec (and the demo), each run against the built CLI on
/// the embedded local store in a directory of its own. Every script checks its own outcome and
/// exits non-zero when the pattern did not work.
@Suite("examples/ scripts run against the built CLI")
struct ExampleScriptTests {
    /// Script name and the line it prints last when the pattern worked.
    static let scripts: [(String, String)] = [
        ("checkpoint.sh", "checkpoint example finished"),
        ("templates.sh", "templates example finished"),
        ("dev-sessions.sh", "dev sessions example finished"),
        ("scenarios.sh", "scenarios example finished"),
        ("destructive-op.sh", "destructive operation example finished"),
        ("demo.sh", "demo finished"),
    ]

    static var examples: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples")
    }

    @Test("examples/*.sh: each spec pattern works end to end", arguments: scripts)
    func script(name: String, finished: String) throws {
        // The demo mounts, and the templates script makes lazy roots as root: both need FUSE.
        if ["demo.sh", "templates.sh"].contains(name) { guard try requireFuse() else { return } }
        let path = Self.examples.appendingPathComponent(name).path
        // No cloud variable of the test process may send a script elsewhere than its own store.
        let result = try Shell.run(
            ["bash", path, SQBackupBinary.path],
            environment: localStoreOnly)
        #expect(result.status == 0, "\(name):\n\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains(finished), "\(name):\n\(result.stdout)")
        #expect(!result.stderr.contains("FAILED"), "\(name):\n\(result.stderr)")
    }

    @Test("every script in examples/ is run by this suite")
    func everyScriptRuns() throws {
        let shipped = try FileManager.default.contentsOfDirectory(atPath: Self.examples.path).filter {
            $0.hasSuffix(".sh")
        }
        #expect(Set(shipped) == Set(Self.scripts.map(\.0)))
    }
}

/// Cloud settings cleared (empty is unset for the CLI and the library): what runs with this
/// environment uses the local store it is given, never a bucket the test process happens to name.
let localStoreOnly = [
    "SQBACKUP_STORE", "BACKUP_BUCKET_NAME", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY", "CLOUDFLARE_ACCOUNT_ID",
    "BACKUP_BUCKET_ENDPOINT",
].reduce(into: [String: String]()) { $0[$1] = "" }

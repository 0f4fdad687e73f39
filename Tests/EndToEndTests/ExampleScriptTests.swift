import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("examples/ scripts run against the built CLI", .serialized)
struct ExampleScriptTests {
    @Test("examples/checkpoint.sh: create, list, mount by id, unmount, delete")
    func checkpoint() throws {
        guard try requireFuse() else { return }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/checkpoint.sh").path
        let result = try Shell.run(["bash", script, SQBackupBinary.path], environment: ["SQBACKUP_STORE": ""])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("checkpoint example finished"))
        #expect(result.stdout.contains("return 42"))
    }

    @Test("examples/template-root.sh: restore --lazy --hydrate, status, unmount")
    func templateRoot() throws {
        guard try requireFuse() else { return }
        guard getuid() == 0 else {
            Issue.record("examples/template-root.sh needs root (kernel overlayfs); not run")
            return
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/template-root.sh").path
        let result = try Shell.run(["bash", script, SQBackupBinary.path], environment: ["SQBACKUP_STORE": ""])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("\"name\": \"app\""))
        #expect(result.stdout.contains("lazy root of"))
        #expect(result.stdout.contains("template root example finished"))
    }
}

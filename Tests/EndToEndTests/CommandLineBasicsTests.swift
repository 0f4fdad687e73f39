import Foundation
import TestSupport
import Testing

/// What every command-line tool owes its users: a version, help, and a clear refusal of typos.
@Suite("Command line basics")
struct CommandLineBasicsTests {
    @Test("--version prints the version; --help lists every command; an unknown command is refused")
    func versionHelpAndTypos() throws {
        let version = try SQBackupBinary.run(["--version"])
        #expect(version.succeeded)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")

        let help = try SQBackupBinary.run(["--help"])
        #expect(help.succeeded)
        for command in ["create", "list", "show", "delete", "prune", "mount", "unmount", "status", "restore"] {
            #expect(help.stdout.contains("  \(command)"), "--help does not list \(command)")
        }

        let typo = try SQBackupBinary.run(["mout", "x", "y"])
        #expect(!typo.succeeded)
        #expect(typo.stderr.contains("mout"), "\(typo.stderr)")
    }
}

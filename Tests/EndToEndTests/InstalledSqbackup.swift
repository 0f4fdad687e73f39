import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// sqbackup laid out by the real `make install`, with the tests' debug binary (BIN=) instead of a
/// release build, and the generate-manual tool built next to it (scripts/run-tests.sh builds it;
/// a test cannot, since `swift test` holds the build directory's lock).
enum InstalledSqbackup {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// mount(8) looks for `mount.fuse.sqbackup` here only.
    static let systemHelper = "/sbin/mount.fuse.sqbackup"

    /// swift-argument-parser's generate-manual, built beside the sqbackup binary.
    static func generateManual() throws -> String {
        let tool = (SQBackupBinary.path as NSString).deletingLastPathComponent + "/generate-manual"
        guard FileManager.default.isExecutableFile(atPath: tool) else {
            Issue.record(
                "\(tool) is missing: build it with `swift build --product generate-manual` (scripts/run-tests.sh does)")
            throw CancellationError()
        }
        return tool
    }

    /// Runs `make TARGET` in the repository with the tests' binary and tool.
    @discardableResult
    static func make(_ arguments: [String]) throws -> Shell.Output {
        try Shell.run(
            ["make", "-s", "-C", repositoryRoot] + arguments + [
                "BIN=\(SQBackupBinary.path)", "GENERATE_MANUAL=\(try generateManual())",
            ])
    }

    /// `make install PREFIX=prefix SBINDIR=prefix/sbin`: installed files name `prefix/bin/sqbackup`,
    /// which exists, so the helper and the units can run as installed.
    static func install(prefix: String) throws {
        let output = try make(["install", "PREFIX=\(prefix)", "SBINDIR=\(prefix)/sbin"])
        guard output.succeeded else {
            Issue.record("make install failed (\(output.status)): \(output.stderr)\(output.stdout)")
            throw CancellationError()
        }
    }

    /// Links `helper` as /sbin/mount.fuse.sqbackup while `body` runs. A helper a user installed is
    /// never replaced (the test fails instead); a link left by a killed test run is.
    static func withSystemHelper<T>(_ helper: String, _ body: () throws -> T) throws -> T {
        var info = stat()
        if lstat(systemHelper, &info) == 0 {
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: systemHelper)) ?? ""
            guard target.contains(testPrefixLabel) else {
                Issue.record("\(systemHelper) is installed on this machine; these tests would replace it")
                throw CancellationError()
            }
            unlink(systemHelper)
        }
        try FileManager.default.createSymbolicLink(atPath: systemHelper, withDestinationPath: helper)
        defer { unlink(systemHelper) }
        return try body()
    }

    /// The label of the temporary prefixes these tests install into.
    static let testPrefixLabel = "sqbackup-installed"
}

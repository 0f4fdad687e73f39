import Foundation
import TestSupport
import Testing

/// examples/swift-api, a package that adopts the SQBackup library by path, built and run as an
/// adopter would build it. Slow (a build of the library from scratch, in a build directory of its
/// own so that it never waits on the lock of the build running these tests), so one test.
@Suite("examples/swift-api builds against the library and runs")
struct SwiftAPIExampleTests {
    @Test("swift run in examples/swift-api: create, list, restore, delete on the local store")
    func buildAndRun() throws {
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/swift-api").path
        // Kept between runs so that only the first one builds everything.
        let scratch = NSTemporaryDirectory() + "sqbackup-swift-api-example-build"
        let work = try TemporaryDirectory("swift-api-example")
        defer { work.remove() }
        let swift = ProcessInfo.processInfo.environment["SWIFT"] ?? "swift"
        let build = try Shell.run(
            [swift, "build", "--package-path", package, "--scratch-path", scratch], timeout: 1200)
        try #require(
            build.status == 0, "swift build failed:\n\(build.stdout.suffix(4000))\n\(build.stderr.suffix(4000))")
        let run = try Shell.run(
            [swift, "run", "--skip-build", "--package-path", package, "--scratch-path", scratch, "SwiftAPIExample"],
            environment: localStoreOnly.merging([
                "SQBACKUP_STORE_DIR": work.child("store"), "SQBACKUP_STATE_DIR": work.child("state"),
            ]) { $1 }, timeout: 300)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("swift-api example finished"), "\(run.stdout)")
        // The example deleted what it made: the store holds no backup.
        let left = (try? FileManager.default.contentsOfDirectory(atPath: work.child("store") + "/backups")) ?? []
        #expect(left == [])
    }
}

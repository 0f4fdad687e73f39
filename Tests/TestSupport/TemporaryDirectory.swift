import Foundation
import Synchronization

/// A fresh directory under the system temp dir, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(_ label: String = "sqbackup-test") throws {
        let base = ProcessInfo.processInfo.environment["SQBACKUP_TEST_TMP"] ?? NSTemporaryDirectory()
        path = (base as NSString).appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A directory shared by the tests of one process (a fixture built once), removed when the
    /// process exits.
    public static func removedAtExit(_ label: String) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory(label)
        let first = atExit.withLock { paths in
            paths.append(directory.path)
            return paths.count == 1
        }
        if first {
            atexit {
                for path in TemporaryDirectory.atExit.withLock({ $0 }) {
                    try? FileManager.default.removeItem(atPath: path)
                }
            }
        }
        return directory
    }

    private static let atExit = Mutex<[String]>([])

    /// A path inside the directory.
    public func child(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    public func remove() {
        // Mounts left by a failed test would make removal recurse into them; detach first.
        _ = try? Shell.run(["umount", "-l", path])
        try? FileManager.default.removeItem(atPath: path)
    }
}

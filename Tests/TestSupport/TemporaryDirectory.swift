import Foundation

/// A fresh directory under the system temp dir, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(_ label: String = "sqbackup-test") throws {
        let base = ProcessInfo.processInfo.environment["SQBACKUP_TEST_TMP"] ?? NSTemporaryDirectory()
        path = (base as NSString).appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A path inside the directory.
    public func child(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    public func remove() {
        // Mounts left by a failed test would make removal recurse into them; detach first.
        _ = try? Shell.run(["umount", "-l", path])
        try? FileManager.default.removeItem(atPath: path)
    }
}

import Foundation

/// What /proc/self/mounts lists, for tests that check that mounts come and go.
public enum MountTable {
    /// The table as the kernel prints it (spaces in paths escaped as `\040`).
    public static var text: String {
        (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
    }

    /// Whether something is mounted at `path` now.
    public static func isMounted(_ path: String) -> Bool {
        text.split(separator: "\n").contains { $0.split(separator: " ").dropFirst().first.map(String.init) == path }
    }
}

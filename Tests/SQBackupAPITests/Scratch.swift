import Foundation

/// A throw-away directory with a local store and a state directory in it, and the environment
/// that points a client there (and nowhere else: no cloud variable of the test process leaks in).
struct Scratch {
    let root: String

    init(_ name: String) throws {
        root = NSTemporaryDirectory() + "sqbackup-api-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    var environment: [String: String] {
        ["SQBACKUP_STORE_DIR": root + "/store", "SQBACKUP_STATE_DIR": root + "/state", "SANDBOX_ID": "api-tests"]
    }

    func path(_ relative: String) -> String { root + "/" + relative }

    /// Writes `files` (relative path → text) under `relative`, making directories as needed.
    func write(_ files: [String: String], under relative: String) throws {
        for (name, text) in files {
            let path = self.path(relative + "/" + name)
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        }
    }

    /// Every regular file under `relative` (relative path → text).
    func read(_ relative: String) throws -> [String: String] {
        let base = path(relative)
        var files: [String: String] = [:]
        for case let name as String in FileManager.default.enumerator(atPath: base) ?? FileManager.DirectoryEnumerator()
        {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: base + "/" + name, isDirectory: &isDirectory),
                !isDirectory.boolValue
            else { continue }
            files[name] = try String(contentsOfFile: base + "/" + name, encoding: .utf8)
        }
        return files
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

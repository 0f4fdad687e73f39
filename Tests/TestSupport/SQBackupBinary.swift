import Foundation

/// Where the built `sqbackup` executable is: next to the test bundle, or $SQBACKUP_BIN.
public enum SQBackupBinary {
    public static var path: String {
        if let override = ProcessInfo.processInfo.environment["SQBACKUP_BIN"] { return override }
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        // On Linux the bundle is a plain executable; on Darwin it's a directory tree.
        while !FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("sqbackup").path),
            directory.path != "/"
        {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("sqbackup").path
    }

    /// Runs `sqbackup` with `arguments`.
    @discardableResult
    public static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> Shell.Output {
        try Shell.run([path] + arguments, environment: environment)
    }
}

/// Whether this machine can mount FUSE filesystems; tests that need it fail loudly otherwise in CI.
public enum FuseCapability {
    public static var missingReason: String? {
        if !FileManager.default.fileExists(atPath: "/dev/fuse") { return "no /dev/fuse on this machine" }
        if getuid() != 0 && !Shell.has("fusermount3") { return "not root and no fusermount3" }
        return nil
    }

    /// True when a FUSE-less run must not be excused (CI sets CI=true).
    public static var required: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
}

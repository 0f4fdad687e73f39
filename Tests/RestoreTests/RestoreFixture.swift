import Foundation
import Restore
import SquashReader
import Storage
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Trees, images and checks shared by the restore tests.
enum RestoreFixture {
    /// The standard tree (every entry type) in `work/<name>`.
    static func standardTree(in work: TemporaryDirectory, name: String = "src", largeFiles: Bool = true) throws
        -> String
    {
        let source = work.child(name)
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        var options = TestTree.Options()
        options.wideDirectoryEntries = 300
        options.largeFiles = largeFiles
        try TestTree.populate(at: source, options: options)
        return source
    }

    /// An image of `directory` made by mksquashfs (the independent writer).
    static func image(of directory: String, in work: TemporaryDirectory, name: String = "image.sqsh") throws -> String {
        let path = work.child(name)
        try SquashfsTools.mksquashfs(directory, to: path)
        return path
    }

    /// Options that restore everything the snapshot holds (the tests run as root).
    static var exact: RestoreOptions {
        var options = RestoreOptions()
        options.preserveSetuid = true
        return options
    }

    static func restore(_ imagePath: String, into target: String, options: RestoreOptions = exact) throws
        -> RestoreResult
    {
        let image = try SquashImage.open(try LocalFileSource(path: imagePath))
        return try Restorer(image: image, options: options).restore(into: target)
    }

    /// Differences between two trees on every attribute this process can set.
    static func differences(_ expected: String, _ actual: String) -> [String] {
        var comparison = TreeComparison()
        comparison.compareOwners = getuid() == 0
        return comparison.differences(expected: expected, actual: actual)
    }

    /// Inode numbers of the regular files under `root`, by relative path.
    static func inodes(_ root: String) -> [String: UInt] {
        var result = [String: UInt]()
        for relative in TreeComparison.walk(root) where !relative.isEmpty {
            var info = stat()
            if lstat(root + "/" + relative, &info) == 0, info.st_mode & S_IFMT == S_IFREG {
                result[relative] = UInt(info.st_ino)
            }
        }
        return result
    }

    /// Entries of `directory` whose names start with `prefix` (leftovers of a restore).
    static func leftovers(in directory: String, prefix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix(prefix) }
    }

    static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }
}

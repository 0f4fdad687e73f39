import Foundation

extension TestTree {
    /// The full standard tree (10k-entry directory, multi-MiB and sparse files, every entry type),
    /// generated on first use and shared by every test of the process, so the reader, writer and
    /// mount tests don't each spend seconds and ~40 MB on their own copy. Read it, never change it.
    public static func shared() throws -> String { try sharedStandardTree.get() }
}

/// Built once (a global's initializer runs once, thread-safely) and removed when the process exits.
private let sharedStandardTree: Result<String, any Error> = Result {
    let directory = try TemporaryDirectory.removedAtExit("standard-tree")
    let root = directory.child("tree")
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    try TestTree.populate(at: root)
    return root
}

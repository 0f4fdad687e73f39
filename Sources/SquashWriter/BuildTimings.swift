/// Wall-clock seconds per build phase (for benchmarks and logs; never written into the image).
public struct BuildTimings: Sendable, Equatable {
    /// Walking the tree.
    public var scan: Double = 0
    /// Reading, hashing and compressing file data, until the block processor drained.
    public var data: Double = 0
    /// Inode, directory, fragment, export, id and xattr tables and the superblock.
    public var metadata: Double = 0
    /// The sink's `finish` (for a file sink: patching the header and hashing the image).
    public var finish: Double = 0
}

#if canImport(Glibc)
    import Glibc
#endif

/// Identifies an entry of an opened image; the root is 1. Hard links share one id.
public typealias NodeID = UInt32

/// The kind of a squashfs entry.
public enum NodeKind: Sendable, Equatable {
    case directory, regularFile, symlink, blockDevice, characterDevice, fifo, socket

    init(mode: UInt32) {
        switch mode & UInt32(S_IFMT) {
        case UInt32(S_IFDIR): self = .directory
        case UInt32(S_IFREG): self = .regularFile
        case UInt32(S_IFLNK): self = .symlink
        case UInt32(S_IFBLK): self = .blockDevice
        case UInt32(S_IFCHR): self = .characterDevice
        case UInt32(S_IFIFO): self = .fifo
        default: self = .socket
        }
    }
}

/// What `stat` says about an entry of the image.
public struct NodeAttributes: Sendable, Equatable {
    public var id: NodeID
    /// Full st_mode: type and permission bits.
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// Seconds since the epoch; squashfs keeps 32 unsigned bits.
    public var mtime: UInt32
    public var nlink: UInt32
    public var size: UInt64
    /// Device number in Linux's 32-bit "new" encoding, as squashfs and FUSE carry it.
    public var rdev: UInt32

    public var kind: NodeKind { NodeKind(mode: mode) }
    public var permissions: UInt32 { mode & 0o7777 }
    /// Major device number of a device node.
    public var deviceMajor: UInt32 { (rdev & 0xfff00) >> 8 }
    /// Minor device number of a device node.
    public var deviceMinor: UInt32 { (rdev & 0xff) | ((rdev >> 12) & 0xfff00) }
}

/// Facts about an opened image as a whole.
public struct ImageInfo: Sendable, Equatable {
    public var blockSize: Int
    public var compressor: String
    /// Bytes the image occupies, per its superblock.
    public var bytesUsed: UInt64
    public var inodeCount: UInt32
    public var modificationTime: UInt32
}

import CFuse3
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// What a `FuseMount` serves: one method per low-level operation in its table. Inode numbers are
/// the kernel's; each filesystem says what they mean.
protocol FuseFilesystem: AnyObject, Sendable {
    var logger: Logger { get }
    func initialize(_ connection: UnsafeMutablePointer<fuse_conn_info>)
    func lookup(_ request: fuse_req_t, parent: fuse_ino_t, name: UnsafePointer<CChar>)
    func getattr(_ request: fuse_req_t, ino: fuse_ino_t)
    func readlink(_ request: fuse_req_t, ino: fuse_ino_t)
    func open(_ request: fuse_req_t, ino: fuse_ino_t, info: UnsafeMutablePointer<fuse_file_info>)
    func read(_ request: fuse_req_t, ino: fuse_ino_t, size: Int, offset: off_t, fileHandle: UInt64)
    /// The kernel is done with an open file; nothing is replied (the table replies).
    func release(ino: fuse_ino_t, fileHandle: UInt64)
    func opendir(_ request: fuse_req_t, ino: fuse_ino_t, info: UnsafeMutablePointer<fuse_file_info>)
    func readdir(_ request: fuse_req_t, ino: fuse_ino_t, size: Int, offset: off_t, fileHandle: UInt64, plus: Bool)
    /// The kernel is done with an open directory; nothing is replied (the table replies).
    func releasedir(ino: fuse_ino_t, fileHandle: UInt64)
    func statfs(_ request: fuse_req_t)
    func getxattr(_ request: fuse_req_t, ino: fuse_ino_t, name: UnsafePointer<CChar>, size: Int)
    func listxattr(_ request: fuse_req_t, ino: fuse_ino_t, size: Int)
}

/// The session's userdata: `Unmanaged` needs a class, and the filesystem is an existential.
final class FuseFilesystemBox: Sendable {
    let filesystem: any FuseFilesystem

    init(_ filesystem: any FuseFilesystem) { self.filesystem = filesystem }
}

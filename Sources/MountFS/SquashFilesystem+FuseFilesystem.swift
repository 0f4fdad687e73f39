import CFuse3

extension SquashFilesystem: FuseFilesystem {
    func release(ino: fuse_ino_t, fileHandle: UInt64) { release(fileHandle: fileHandle) }

    func readdir(_ request: fuse_req_t, ino: fuse_ino_t, size: Int, offset: off_t, fileHandle: UInt64, plus: Bool) {
        readdir(request, ino: ino, size: size, offset: offset, plus: plus)
    }

    /// Directories hold no state here.
    func releasedir(ino: fuse_ino_t, fileHandle: UInt64) {}
}

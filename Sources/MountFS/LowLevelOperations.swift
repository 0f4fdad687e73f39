import CFuse3

#if canImport(Glibc)
    import Glibc
#endif

/// The libfuse operation table. Built here, in a nonisolated library function, because a C
/// callback closure formed in main-actor code traps when libfuse calls it on a worker thread.
func makeLowLevelOperations() -> fuse_lowlevel_ops {
    var operations = fuse_lowlevel_ops()
    @inline(__always) func filesystem(_ request: fuse_req_t?) -> any FuseFilesystem {
        Unmanaged<FuseFilesystemBox>.fromOpaque(fuse_req_userdata(request)!).takeUnretainedValue().filesystem
    }
    operations.`init` = { userdata, connection in
        guard let userdata, let connection else { return }
        Unmanaged<FuseFilesystemBox>.fromOpaque(userdata).takeUnretainedValue().filesystem.initialize(connection)
    }
    operations.lookup = { request, parent, name in
        filesystem(request).lookup(request!, parent: parent, name: name!)
    }
    // Every node lives as long as the image, so lookup counts need no bookkeeping.
    operations.forget = { request, _, _ in fuse_reply_none(request) }
    operations.forget_multi = { request, _, _ in fuse_reply_none(request) }
    operations.getattr = { request, ino, _ in filesystem(request).getattr(request!, ino: ino) }
    operations.readlink = { request, ino in filesystem(request).readlink(request!, ino: ino) }
    operations.open = { request, ino, info in filesystem(request).open(request!, ino: ino, info: info!) }
    operations.read = { request, ino, size, offset, info in
        filesystem(request).read(request!, ino: ino, size: size, offset: offset, fileHandle: info?.pointee.fh ?? 0)
    }
    operations.release = { request, ino, info in
        filesystem(request).release(ino: ino, fileHandle: info?.pointee.fh ?? 0)
        fuse_reply_err(request, 0)
    }
    operations.opendir = { request, ino, info in filesystem(request).opendir(request!, ino: ino, info: info!) }
    operations.readdir = { request, ino, size, offset, info in
        filesystem(request).readdir(
            request!, ino: ino, size: size, offset: offset, fileHandle: info?.pointee.fh ?? 0, plus: false)
    }
    operations.readdirplus = { request, ino, size, offset, info in
        filesystem(request).readdir(
            request!, ino: ino, size: size, offset: offset, fileHandle: info?.pointee.fh ?? 0, plus: true)
    }
    operations.releasedir = { request, ino, info in
        filesystem(request).releasedir(ino: ino, fileHandle: info?.pointee.fh ?? 0)
        fuse_reply_err(request, 0)
    }
    operations.statfs = { request, _ in filesystem(request).statfs(request!) }
    operations.getxattr = { request, ino, name, size in
        filesystem(request).getxattr(request!, ino: ino, name: name!, size: size)
    }
    operations.listxattr = { request, ino, size in filesystem(request).listxattr(request!, ino: ino, size: size) }
    return operations
}

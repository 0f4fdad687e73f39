import SQBackup

/// What `status --json` prints: the running mount daemons and the lazy roots (`restore --lazy`).
struct StatusDocument: Encodable {
    var mounts: [MountStatus]
    var lazyRoots: [LazyRootDocument]
}

import CSystemShims

#if canImport(Glibc)
    import Glibc
#endif

/// What an entry this run has just created already carries, so that giving it the snapshot's
/// metadata can leave out calls that would change nothing: its owner, and (when no default ACL
/// can reach it) no xattrs at all. Known only for a fresh build, whose every directory this
/// run made inside a root it made; in place, entries land in directories of unknown settings.
struct CreatedEntries: Sendable {
    let uid: uid_t
    let gid: gid_t
    /// No inherited xattrs (the root has no default ACL, and its subdirectories are ours).
    let startsWithoutXattrs: Bool

    /// The state of entries created below `root`, a directory this run made and nothing else
    /// has touched; nil when it can't be read.
    init?(root: DirectoryHandle) {
        var info = stat()
        // A root not owned by us (root squashed on NFS, say) means new entries' owners are not ours to predict.
        guard fstat(root.fd, &info) == 0, info.st_uid == geteuid() else { return nil }
        uid = geteuid()
        // A setgid directory gives new entries its group (and new directories its setgid bit).
        gid = info.st_mode & S_ISGID != 0 ? info.st_gid : getegid()
        let size = "system.posix_acl_default".withCString { fgetxattr(root.fd, $0, nil, 0) }
        startsWithoutXattrs = size < 0 && (errno == ENODATA || errno == EOPNOTSUPP)
    }
}

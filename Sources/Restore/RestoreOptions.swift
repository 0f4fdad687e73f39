import Storage

#if canImport(Glibc)
    import Glibc
#endif

/// How a restore treats what is already in the target and what the untrusted image asks for.
public struct RestoreOptions: Sendable {
    /// Keep entries the snapshot does not have instead of removing them.
    public var keepExtra = false
    /// Create device nodes; only possible as root, so by default only then (else skipped and reported).
    public var allowDevices = getuid() == 0
    /// Give entries the snapshot's owners; only root can, so by default only then.
    public var preserveOwners = getuid() == 0
    /// Keep setuid/setgid bits on files and `security.capability` xattrs. On by default for root,
    /// as tar and restic do: the snapshot is the state being restored, and a restore is an explicit
    /// materialization of it. Honoured only as root (no one else can give them faithfully).
    public var preserveSetuid = geteuid() == 0
    /// Files written at once; each streams its own blocks, so together they scan the image in order.
    public var workers = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    /// Bytes asked of the image per read while copying a file.
    public var chunkBytes = 1 << 20
    /// File data fetched ahead of the workers in image order, in large concurrent requests, so
    /// small files don't cost a round trip each (measured over 20 ms RTT: 32 MiB 0.86 s, 64 MiB
    /// 0.56 s, 128 MiB no better); 0 disables. Of large files only the head; they read ahead themselves.
    public var scanAheadBytes = 64 << 20

    /// Set (by a signal handler) to stop the restore: it stops before its next rename, removes
    /// its temporaries and throws `RestoreError.interrupted`.
    public var cancellation: CancellationFlag?

    /// Called a few times a second from a thread of its own with the running totals, and once at
    /// the end of a restore that completed; nil: no progress is counted beyond the result's.
    public var progress: (@Sendable (RestoreProgress) -> Void)?

    public init() {}
}

/// How a FUSE mount of an image behaves.
public struct MountOptions: Sendable {
    /// Shown as the source in /proc/mounts and `df`.
    public var fsName = "sqbackup"
    /// Other `-o` options passed to libfuse and the kernel (e.g. "allow_other").
    public var extraOptions: [String] = []
    /// FUSE worker threads: how many requests can wait on storage at once.
    public var maxThreads = 64
    /// Allow mounting over a non-empty directory.
    public var allowNonEmpty = false
    /// Kernel readahead for the mount in KiB (0 keeps the kernel's 128 KiB); needs root.
    public var kernelReadaheadKB = 4096
    /// Print every FUSE request (libfuse's -d).
    public var debug = false

    public init() {}
}

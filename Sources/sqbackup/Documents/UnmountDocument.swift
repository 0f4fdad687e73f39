/// What `unmount --json` prints once the mount is gone.
struct UnmountDocument: Encodable {
    var mountpoint: String
    /// Whether it was the target of a `restore --lazy` root (its overlay and writes are gone too).
    var lazyRoot: Bool
    var unmounted = true
}

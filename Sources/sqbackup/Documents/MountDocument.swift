/// What `mount --json` prints once the mount is ready.
struct MountDocument: Encodable {
    var mountpoint: String
    /// The image mounted, safe to print: a URL without its query (a presigned signature).
    var image: String
    /// The daemon serving the mount (this process with --foreground).
    var pid: Int32
    var foreground: Bool
    /// Whether reads are checked against block digests recorded at create.
    var verified: Bool
    /// Notices the daemon had for the user (e.g. why reads are unverified).
    var warnings: [String]
}

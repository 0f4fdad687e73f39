import CFuse3

/// The FUSE capabilities and limits every sqbackup filesystem asks the kernel for.
enum ConnectionCapabilities {
    static func negotiate(_ connection: UnsafeMutablePointer<fuse_conn_info>) {
        let capable = connection.pointee.capable
        var want = connection.pointee.want
        for capability in [
            UInt32(FUSE_CAP_READDIRPLUS), UInt32(FUSE_CAP_READDIRPLUS_AUTO), UInt32(FUSE_CAP_CACHE_SYMLINKS),
            UInt32(FUSE_CAP_ASYNC_READ), UInt32(FUSE_CAP_SPLICE_WRITE),
        ] where capable & capability != 0 {
            want |= capability
        }
        // Images never change: don't drop cached pages when attributes are refreshed.
        want &= ~UInt32(FUSE_CAP_AUTO_INVAL_DATA)
        connection.pointee.want = want
        connection.pointee.max_readahead = UInt32(1 << 20)
        connection.pointee.max_background = 64
        connection.pointee.congestion_threshold = 48
    }
}

import CSystemShims

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// `fsetxattr`/`fgetxattr` on an open file, for the local store's object metadata.
enum ExtendedAttributes {
    /// Sets `name` on the open file; false (with errno set) when the file system refuses.
    static func set(_ fd: Int32, name: String, value: [UInt8]) -> Bool {
        value.withUnsafeBytes { fsetxattr(fd, name, $0.baseAddress, $0.count, 0) } == 0
    }

    /// The value of `name` on the open file, or nil when it is absent or unreadable.
    static func get(_ fd: Int32, name: String) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let count = buffer.withUnsafeMutableBytes { fgetxattr(fd, name, $0.baseAddress, $0.count) }
        return count >= 0 ? Array(buffer[..<count]) : nil
    }
}

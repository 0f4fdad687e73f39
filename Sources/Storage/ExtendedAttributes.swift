#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// `fsetxattr`/`fgetxattr`, looked up at run time: Glibc's Swift module does not export
/// `<sys/xattr.h>`, and this target has no C shim of its own.
enum ExtendedAttributes {
    private typealias SetFunction =
        @convention(c) (
            Int32, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32
        ) -> Int32
    private typealias GetFunction =
        @convention(c) (
            Int32, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int
        ) -> Int

    private static func symbol(_ name: String) -> UnsafeMutableRawPointer? {
        #if os(Linux)
            // RTLD_DEFAULT is ((void *) 0) in glibc and does not import.
            return dlsym(nil, name)
        #else
            return dlsym(UnsafeMutableRawPointer(bitPattern: -2), name)
        #endif
    }

    /// Sets `name` on the open file; false (with errno set) when the file system refuses.
    static func set(_ fd: Int32, name: String, value: [UInt8]) -> Bool {
        guard let function = symbol("fsetxattr") else {
            errno = ENOTSUP
            return false
        }
        #if os(Linux)
            let set = unsafeBitCast(function, to: SetFunction.self)
            return value.withUnsafeBytes { set(fd, name, $0.baseAddress, $0.count, 0) } == 0
        #else
            errno = ENOTSUP
            return false
        #endif
    }

    /// The value of `name` on the open file, or nil when it is absent or unreadable.
    static func get(_ fd: Int32, name: String) -> [UInt8]? {
        #if os(Linux)
            guard let function = symbol("fgetxattr") else { return nil }
            let get = unsafeBitCast(function, to: GetFunction.self)
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            let count = buffer.withUnsafeMutableBytes { get(fd, name, $0.baseAddress, $0.count) }
            return count >= 0 ? Array(buffer[..<count]) : nil
        #else
            return nil
        #endif
    }
}

#if canImport(Glibc)
    import Glibc
#endif

/// An open directory of the target. Every operation is relative to its descriptor and never
/// follows a symlink in the last component, so entries of an untrusted image can't redirect
/// writes outside the target, whatever the target already contains.
final class DirectoryHandle: Sendable {
    let fd: Int32
    /// The directory's path relative to the target, for messages.
    let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// Opens a directory the user named (following symlinks there is the user's choice).
    static func open(path: String) throws -> DirectoryHandle {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw RestoreError.system("open", path) }
        return DirectoryHandle(fd: fd, path: "")
    }

    /// Opens child directory `name`, refusing symlinks. `isRoot`: it is the root of a restore, so
    /// paths below it are shown relative to it.
    func child(_ name: [UInt8], isRoot: Bool = false) throws -> DirectoryHandle {
        let fd = Self.withName(name) { openat(self.fd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { throw RestoreError.system("open directory", display(name)) }
        return DirectoryHandle(fd: fd, path: isRoot ? "" : display(name))
    }

    /// The path of `name` inside this directory, relative to the target, for messages.
    func display(_ name: [UInt8]) -> String {
        let text = String(decoding: name, as: UTF8.self)
        return path.isEmpty ? text : path + "/" + text
    }

    /// `lstat` of `name`; nil when it does not exist.
    func status(_ name: [UInt8]) -> stat? {
        var info = stat()
        let result = Self.withName(name) { fstatat(fd, $0, &info, AT_SYMLINK_NOFOLLOW) }
        return result == 0 ? info : nil
    }

    /// The names in this directory, without "." and "..".
    func names() throws -> [[UInt8]] {
        let copy = dup(fd)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            throw RestoreError.system("list", path.isEmpty ? "." : path)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var result = [[UInt8]]()
        while true {
            // readdir answers nil both at the end and on an error; only errno tells them apart.
            errno = 0
            guard let entry = readdir(stream) else { break }
            let name = withUnsafeBytes(of: &entry.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            if name == [46] || name == [46, 46] { continue }
            result.append(name)
        }
        if errno != 0 { throw RestoreError.system("list", path.isEmpty ? "." : path) }
        return result
    }

    /// The target of symlink `name`, as bytes.
    func linkTarget(_ name: [UInt8]) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = Self.withName(name) { cName in
            buffer.withUnsafeMutableBytes {
                readlinkat(fd, cName, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count)
            }
        }
        guard count >= 0, count < buffer.count else { return nil }
        return Array(buffer[0..<count])
    }

    /// Removes `name` and, for a directory, everything below it (without following symlinks).
    /// Returns how many entries were removed.
    @discardableResult
    func removeTree(_ name: [UInt8]) throws -> Int {
        guard let info = status(name) else { return 0 }
        if info.st_mode & S_IFMT == S_IFDIR {
            var removed = 0
            let directory = try child(name)
            for entry in try directory.names() { removed += try directory.removeTree(entry) }
            guard Self.withName(name, { unlinkat(fd, $0, AT_REMOVEDIR) }) == 0 else {
                throw RestoreError.system("remove directory", display(name))
            }
            return removed + 1
        }
        guard Self.withName(name, { unlinkat(fd, $0, 0) }) == 0 || errno == ENOENT else {
            throw RestoreError.system("remove", display(name))
        }
        return 1
    }

    /// Renames `from` over `to` in this directory: the atomic step of an in-place replacement.
    func rename(_ from: [UInt8], to: [UInt8]) throws {
        let result = Self.withName(from) { old in Self.withName(to) { new in renameat(fd, old, fd, new) } }
        guard result == 0 else { throw RestoreError.system("rename into place", display(to)) }
    }

    /// A path for the l*xattr calls that reaches `name` through this descriptor; those calls do not
    /// follow a final symlink, and /proc/self/fd pins the directory itself.
    func procPath(_ name: [UInt8]) -> [UInt8] {
        Array("/proc/self/fd/\(fd)/".utf8) + name
    }

    /// Calls `body` with `name` as a NUL-terminated C string.
    static func withName<T>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) -> T) -> T {
        var bytes = name
        bytes.append(0)
        return bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
        }
    }
}

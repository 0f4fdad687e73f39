import CSystemShims
import SquashReader

#if canImport(Glibc)
    import Glibc
#endif

/// Gives restored entries the snapshot's owner, mode, xattrs and mtime, in the order that keeps
/// them: owner before mode (chown clears setuid), mtime last.
struct MetadataWriter: Sendable {
    let image: SquashImage
    let options: RestoreOptions
    let isRoot = geteuid() == 0

    var setsOwners: Bool { isRoot && options.preserveOwners }
    private var keepsPrivileges: Bool { isRoot && options.preserveSetuid }

    /// The permission bits to give `attributes`: setuid/setgid on files only when allowed.
    func permissions(_ attributes: NodeAttributes) -> UInt32 {
        guard !keepsPrivileges, attributes.kind == .regularFile else { return attributes.permissions }
        return attributes.permissions & ~UInt32(S_ISUID | S_ISGID)
    }

    /// The xattrs to give `id`; file capabilities count as privileges like setuid.
    func extendedAttributes(_ id: NodeID) -> [ExtendedAttribute] {
        let all = image.extendedAttributes(of: id)
        return keepsPrivileges ? all : all.filter { $0.name != "security.capability" }
    }

    /// A line for the result when the snapshot asked for privileges this restore does not grant.
    func privilegeNote(_ id: NodeID, _ attributes: NodeAttributes, path: String) -> RestoreWarning? {
        let setuid = permissions(attributes) != attributes.permissions
        let capability = extendedAttributes(id).count != image.extendedAttributes(of: id).count
        guard setuid || capability else { return nil }
        return RestoreWarning(path: path, kind: .privilegesNotRestored(setuid: setuid, capability: capability))
    }

    /// Whether an existing entry's metadata already matches (type and content are checked by the caller).
    func matches(_ info: stat, _ attributes: NodeAttributes) -> Bool {
        guard info.st_mtim.tv_sec == Int(attributes.mtime) else { return false }
        if attributes.kind != .symlink, info.st_mode & 0o7777 != permissions(attributes) { return false }
        if setsOwners, info.st_uid != attributes.uid || info.st_gid != attributes.gid { return false }
        return true
    }

    /// Applies everything to an open file or directory. `created`: what the entry, new in this
    /// run, already carries; calls that would change nothing are left out.
    func apply(fd: Int32, _ id: NodeID, _ attributes: NodeAttributes, path: String, created: CreatedEntries? = nil)
        throws
    {
        let ownerMatches = created.map { $0.uid == attributes.uid && $0.gid == attributes.gid } ?? false
        if setsOwners && !ownerMatches, fchown(fd, attributes.uid, attributes.gid) != 0 {
            throw RestoreError.system("chown", path)
        }
        if fchmod(fd, permissions(attributes)) != 0 { throw RestoreError.system("chmod", path) }
        if created?.startsWithoutXattrs == true {
            try setXattrs(.descriptor(fd), extendedAttributes(id), path: path)
        } else {
            try reconcileXattrs(.descriptor(fd), id, path: path)
        }
        var times = Self.times(attributes)
        if futimens(fd, &times) != 0 { throw RestoreError.system("set times of", path) }
    }

    /// Applies everything to a symlink or special file `name` in `directory`, never following it.
    func apply(in directory: DirectoryHandle, _ name: [UInt8], _ id: NodeID, _ attributes: NodeAttributes) throws {
        let path = directory.display(name)
        if setsOwners {
            let result = DirectoryHandle.withName(name) {
                fchownat(directory.fd, $0, attributes.uid, attributes.gid, AT_SYMLINK_NOFOLLOW)
            }
            if result != 0 { throw RestoreError.system("chown", path) }
        }
        if attributes.kind != .symlink {
            // Linux has no lchmod: pin the entry with O_PATH (never following), check it is not a
            // symlink swapped in meanwhile, then chmod it through its /proc/self/fd link.
            let fd = DirectoryHandle.withName(name) { openat(directory.fd, $0, Self.pathOnly | O_NOFOLLOW | O_CLOEXEC) }
            guard fd >= 0 else { throw RestoreError.system("open", path) }
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == attributes.mode & S_IFMT else {
                throw RestoreError("\(path) changed type while being restored")
            }
            if chmod("/proc/self/fd/\(fd)", permissions(attributes)) != 0 { throw RestoreError.system("chmod", path) }
        }
        try reconcileXattrs(.path(directory.procPath(name)), id, path: path)
        var times = Self.times(attributes)
        let result = DirectoryHandle.withName(name) { utimensat(directory.fd, $0, &times, AT_SYMLINK_NOFOLLOW) }
        if result != 0 { throw RestoreError.system("set times of", path) }
    }

    /// Where xattrs are read and written: an open descriptor, or a no-follow path.
    enum XattrTarget {
        case descriptor(Int32)
        case path([UInt8])
    }

    /// Makes the entry's xattrs exactly the snapshot's (ones this process can't see are left alone).
    func reconcileXattrs(_ target: XattrTarget, _ id: NodeID, path: String) throws {
        let wanted = extendedAttributes(id)
        let present = listXattrs(target)
        if wanted.isEmpty && present.isEmpty { return }
        let wantedNames = Set(wanted.map(\.name))
        for name in present where !wantedNames.contains(name) && !name.hasPrefix("security.selinux") {
            let result: Int32
            switch target {
            case .descriptor(let fd): result = fremovexattr(fd, name)
            case .path(let bytes): result = DirectoryHandle.withName(bytes) { lremovexattr($0, name) }
            }
            if result != 0 && errno != ENODATA { throw RestoreError.system("remove xattr \(name) of", path) }
        }
        try setXattrs(target, wanted, path: path)
    }

    /// Sets every xattr of `wanted`, replacing a value already there.
    private func setXattrs(_ target: XattrTarget, _ wanted: [ExtendedAttribute], path: String) throws {
        for xattr in wanted {
            let result = xattr.value.withUnsafeBytes { value -> Int32 in
                switch target {
                case .descriptor(let fd): return fsetxattr(fd, xattr.name, value.baseAddress, value.count, 0)
                case .path(let bytes):
                    return DirectoryHandle.withName(bytes) {
                        lsetxattr($0, xattr.name, value.baseAddress, value.count, 0)
                    }
                }
            }
            if result != 0 { throw RestoreError.system("set xattr \(xattr.name) of", path) }
        }
    }

    private func listXattrs(_ target: XattrTarget) -> [String] {
        func list(_ buffer: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int {
            switch target {
            case .descriptor(let fd): return flistxattr(fd, buffer, size)
            case .path(let bytes): return DirectoryHandle.withName(bytes) { llistxattr($0, buffer, size) }
            }
        }
        let size = list(nil, 0)
        guard size > 0 else { return [] }
        var buffer = [CChar](repeating: 0, count: size)
        let used = buffer.withUnsafeMutableBufferPointer { list($0.baseAddress, size) }
        guard used > 0 else { return [] }
        return buffer[0..<used].split(separator: 0).map {
            String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// Linux's O_PATH, which Glibc's Swift module does not export.
    private static let pathOnly: Int32 = 0o10000000

    /// atime and mtime both set to the snapshot's mtime (squashfs keeps no atime).
    static func times(_ attributes: NodeAttributes) -> [timespec] {
        let time = timespec(tv_sec: Int(attributes.mtime), tv_nsec: 0)
        return [time, time]
    }
}

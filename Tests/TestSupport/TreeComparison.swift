import CSystemShims
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Compares two directory trees entry by entry (type, mode, owner, mtime, size, content,
/// symlink target, device number, xattrs, hard-link identity) and lists every difference.
public struct TreeComparison: Sendable {
    public var compareOwners = true
    public var compareTimes = true
    public var compareXattrs = true
    /// Compare the mode and times of the two roots themselves too.
    public var compareRoot = true
    /// Xattr names to ignore (e.g. ones the filesystem adds itself).
    public var ignoredXattrPrefixes = ["security.selinux"]

    public init() {}

    /// Every difference found, as readable lines; empty when the trees match.
    public func differences(expected: String, actual: String) -> [String] {
        var problems = [String]()
        var expectedLinks = [String: String]()  // "dev:ino" -> first relative path
        var actualLinks = [String: String]()
        let paths = Self.walk(expected)
        let actualPaths = Set(Self.walk(actual))
        for extra in actualPaths.subtracting(paths).sorted() { problems.append("\(extra): unexpected entry") }
        for relative in paths {
            let left = relative.isEmpty ? expected : expected + "/" + relative
            let right = relative.isEmpty ? actual : actual + "/" + relative
            let name = relative.isEmpty ? "(root)" : relative
            var a = stat()
            var b = stat()
            guard lstat(left, &a) == 0 else { continue }
            guard lstat(right, &b) == 0 else {
                problems.append("\(name): missing (\(String(cString: strerror(errno))))")
                continue
            }
            let type = a.st_mode & S_IFMT
            if type != b.st_mode & S_IFMT {
                problems.append("\(name): type \(String(type, radix: 8)) vs \(String(b.st_mode & S_IFMT, radix: 8))")
                continue
            }
            if !relative.isEmpty || compareRoot {
                if a.st_mode & 0o7777 != b.st_mode & 0o7777 {
                    problems.append(
                        "\(name): mode \(String(a.st_mode & 0o7777, radix: 8)) vs \(String(b.st_mode & 0o7777, radix: 8))"
                    )
                }
                if compareOwners, a.st_uid != b.st_uid || a.st_gid != b.st_gid {
                    problems.append("\(name): owner \(a.st_uid):\(a.st_gid) vs \(b.st_uid):\(b.st_gid)")
                }
                if compareTimes, a.st_mtim.tv_sec != b.st_mtim.tv_sec {
                    problems.append("\(name): mtime \(a.st_mtim.tv_sec) vs \(b.st_mtim.tv_sec)")
                }
            }
            switch type {
            case S_IFDIR:
                // 2 + subdirectories; filesystems that don't count (btrfs says 1) are not compared.
                if a.st_nlink > 1 && b.st_nlink > 1 && a.st_nlink != b.st_nlink {
                    problems.append("\(name): directory nlink \(a.st_nlink) vs \(b.st_nlink)")
                }
            case S_IFREG:
                if a.st_size != b.st_size {
                    problems.append("\(name): size \(a.st_size) vs \(b.st_size)")
                } else if let difference = Self.contentDifference(left, right) {
                    problems.append("\(name): content differs \(difference)")
                }
                if a.st_nlink > 1 || b.st_nlink > 1 {
                    if a.st_nlink != b.st_nlink { problems.append("\(name): nlink \(a.st_nlink) vs \(b.st_nlink)") }
                    let firstA = expectedLinks["\(a.st_dev):\(a.st_ino)", default: relative]
                    let firstB = actualLinks["\(b.st_dev):\(b.st_ino)", default: relative]
                    expectedLinks["\(a.st_dev):\(a.st_ino)"] = firstA
                    actualLinks["\(b.st_dev):\(b.st_ino)"] = firstB
                    if firstA != firstB { problems.append("\(name): hard link to \(firstA) vs \(firstB)") }
                }
            case S_IFLNK:
                let targetA = Self.readLink(left)
                let targetB = Self.readLink(right)
                if targetA != targetB { problems.append("\(name): link target \(targetA ?? "?") vs \(targetB ?? "?")") }
            case S_IFCHR, S_IFBLK:
                if a.st_rdev != b.st_rdev { problems.append("\(name): rdev \(a.st_rdev) vs \(b.st_rdev)") }
            default:
                break
            }
            if compareXattrs {
                let xa = Self.xattrs(left).filter { key, _ in !ignoredXattrPrefixes.contains { key.hasPrefix($0) } }
                let xb = Self.xattrs(right).filter { key, _ in !ignoredXattrPrefixes.contains { key.hasPrefix($0) } }
                if xa != xb {
                    problems.append(
                        "\(name): xattrs \(xa.keys.sorted()) vs \(xb.keys.sorted())\(xa.keys == xb.keys ? " (values differ)" : "")"
                    )
                }
            }
        }
        return problems
    }

    /// Relative paths of every entry below `root`, root itself as "", sorted.
    public static func walk(_ root: String) -> [String] {
        var result = [""]
        var stack = [""]
        while let relative = stack.popLast() {
            let full = relative.isEmpty ? root : root + "/" + relative
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: full) else { continue }
            for name in names {
                let child = relative.isEmpty ? name : relative + "/" + name
                result.append(child)
                var info = stat()
                if lstat(root + "/" + child, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { stack.append(child) }
            }
        }
        return result.sorted()
    }

    /// nil when both files hold the same bytes, else where they first differ.
    public static func contentDifference(_ left: String, _ right: String) -> String? {
        guard let a = FileHandle(forReadingAtPath: left) else { return "(cannot open \(left))" }
        guard let b = FileHandle(forReadingAtPath: right) else {
            return "(cannot open \(right): \(String(cString: strerror(errno))))"
        }
        defer {
            try? a.close()
            try? b.close()
        }
        var offset = 0
        while true {
            let chunkA = a.readData(ofLength: 1 << 20)
            let chunkB = b.readData(ofLength: 1 << 20)
            if chunkA != chunkB {
                let index =
                    zip(chunkA, chunkB).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                    ?? min(chunkA.count, chunkB.count)
                return "at byte \(offset + index)"
            }
            if chunkA.isEmpty { return nil }
            offset += chunkA.count
        }
    }

    public static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 8192)
        let count = readlink(path, &buffer, buffer.count)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// All extended attributes of `path` itself.
    public static func xattrs(_ path: String) -> [String: [UInt8]] {
        let size = llistxattr(path, nil, 0)
        guard size > 0 else { return [:] }
        var names = [CChar](repeating: 0, count: size)
        let got = llistxattr(path, &names, size)
        guard got > 0 else { return [:] }
        var result = [String: [UInt8]]()
        for name in names[0..<got].split(separator: 0).map({ String(cString: Array($0) + [0]) }) {
            let valueSize = lgetxattr(path, name, nil, 0)
            guard valueSize >= 0 else { continue }
            var value = [UInt8](repeating: 0, count: valueSize)
            let read = lgetxattr(path, name, &value, valueSize)
            result[name] = read >= 0 ? Array(value[0..<read]) : []
        }
        return result
    }
}

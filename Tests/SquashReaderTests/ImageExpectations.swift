import CSystemShims
import Foundation
import SquashReader
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Checks an opened image against the directory it was built from, entry by entry.
enum ImageExpectations {
    static func differences(image: SquashImage, source: String) throws -> [String] {
        var problems = [String]()
        var inodeToNode = [String: NodeID]()
        var nodeToInode = [NodeID: String]()
        var stack: [(NodeID, String)] = [(SquashImage.rootID, "")]
        var seen = Set<String>()
        while let (directory, relative) = stack.popLast() {
            for (nameBytes, node) in image.entries(of: directory) {
                let name = String(decoding: nameBytes, as: UTF8.self)
                let path = relative.isEmpty ? name : relative + "/" + name
                seen.insert(path)
                let full = source + "/" + path
                var info = stat()
                guard lstat(full, &info) == 0 else {
                    problems.append("\(path): in image, not in source")
                    continue
                }
                guard let attributes = image.attributes(of: node) else {
                    problems.append("\(path): no attributes")
                    continue
                }
                if attributes.mode != UInt32(info.st_mode) {
                    problems.append(
                        "\(path): mode \(String(attributes.mode, radix: 8)) vs \(String(info.st_mode, radix: 8))")
                }
                if attributes.uid != info.st_uid || attributes.gid != info.st_gid {
                    problems.append(
                        "\(path): owner \(attributes.uid):\(attributes.gid) vs \(info.st_uid):\(info.st_gid)")
                }
                if Int(attributes.mtime) != info.st_mtim.tv_sec {
                    problems.append("\(path): mtime \(attributes.mtime) vs \(info.st_mtim.tv_sec)")
                }
                let key = "\(info.st_ino)"
                if info.st_mode & S_IFMT != S_IFDIR {
                    if let existing = inodeToNode[key], existing != node { problems.append("\(path): hard link split") }
                    if let existing = nodeToInode[node], existing != key {
                        problems.append("\(path): distinct files merged")
                    }
                    inodeToNode[key] = node
                    nodeToInode[node] = key
                    if attributes.nlink != UInt32(info.st_nlink) {
                        problems.append("\(path): nlink \(attributes.nlink) vs \(info.st_nlink)")
                    }
                }
                switch info.st_mode & S_IFMT {
                case S_IFDIR:
                    stack.append((node, path))
                case S_IFREG:
                    if attributes.size != UInt64(info.st_size) {
                        problems.append("\(path): size \(attributes.size) vs \(info.st_size)")
                    } else {
                        let expected = try Data(contentsOf: URL(fileURLWithPath: full))
                        let actual = try image.read(node, offset: 0, length: Int(attributes.size) + 100)
                        if Data(actual) != expected { problems.append("\(path): content differs") }
                    }
                case S_IFLNK:
                    let target = TreeComparison.readLink(full)
                    let stored = image.symlinkTarget(of: node).map { String(decoding: $0, as: UTF8.self) }
                    if target != stored { problems.append("\(path): target \(stored ?? "nil") vs \(target ?? "nil")") }
                case S_IFCHR, S_IFBLK:
                    let rdev = sqb_makedev(attributes.deviceMajor, attributes.deviceMinor)
                    if rdev != info.st_rdev { problems.append("\(path): rdev \(rdev) vs \(info.st_rdev)") }
                default:
                    break
                }
                let expectedXattrs = TreeComparison.xattrs(full)
                var actualXattrs = [String: [UInt8]]()
                for attribute in image.extendedAttributes(of: node) { actualXattrs[attribute.name] = attribute.value }
                if expectedXattrs != actualXattrs {
                    problems.append("\(path): xattrs \(actualXattrs.keys.sorted()) vs \(expectedXattrs.keys.sorted())")
                }
            }
        }
        for path in TreeComparison.walk(source) where !path.isEmpty && !seen.contains(path) {
            problems.append("\(path): in source, not in image")
        }
        return problems
    }
}

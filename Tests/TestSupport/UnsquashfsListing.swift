import CSystemShims
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `unsquashfs -lln` as an oracle: its listing of an image, and the same listing computed
/// from a mounted or extracted tree, normalized so the two can be compared line by line.
public enum UnsquashfsListing {
    /// The listing unsquashfs prints for `image` (UTC times), one normalized line per entry.
    public static func ofImage(_ image: String) throws -> [String] {
        let output = try Shell.check(["env", "TZ=UTC", "unsquashfs", "-lln", image])
        return output.split(separator: "\n").map { normalize(String($0)) }.filter { !$0.isEmpty }.sorted()
    }

    /// The same listing computed from the tree at `root` with lstat.
    public static func ofTree(_ root: String) -> [String] {
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        var lines = [String]()
        for relative in TreeComparison.walk(root) {
            let full = relative.isEmpty ? root : root + "/" + relative
            var info = stat()
            guard lstat(full, &info) == 0 else { continue }
            let type = info.st_mode & S_IFMT
            let sizeField: String
            if type == S_IFCHR || type == S_IFBLK {
                // unsquashfs splits the 32-bit squashfs device number as (n >> 8, n & 0xff).
                let major = UInt32(sqb_major(info.st_rdev))
                let minor = UInt32(sqb_minor(info.st_rdev))
                let encoded = (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)
                sizeField = "\(encoded >> 8),\(encoded & 0xff)"
            } else if type == S_IFIFO || type == S_IFSOCK {
                sizeField = "0"
            } else {
                sizeField = "\(info.st_size)"
            }
            let date = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec)))
            var line = "\(modeString(info.st_mode)) \(info.st_uid)/\(info.st_gid) \(sizeField) \(date) squashfs-root"
            if !relative.isEmpty { line += "/" + relative }
            if type == S_IFLNK { line += " -> " + (TreeComparison.readLink(full) ?? "?") }
            lines.append(normalize(line))
        }
        return lines.sorted()
    }

    static func normalize(_ line: String) -> String {
        var line = line
        // Device numbers are printed as "major,  minor" with padding after the comma.
        if line.first == "b" || line.first == "c", let comma = line.range(of: #",\s+"#, options: .regularExpression) {
            line.replaceSubrange(comma, with: ",")
        }
        // Collapse the column padding, keeping spaces inside names (which come after the 5th field).
        let parts = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
        return parts.joined(separator: " ")
    }

    /// `ls -l` style permission string, e.g. "-rwsr-xr-x".
    public static func modeString(_ mode: mode_t) -> String {
        let type: Character
        switch mode & S_IFMT {
        case S_IFDIR: type = "d"
        case S_IFLNK: type = "l"
        case S_IFCHR: type = "c"
        case S_IFBLK: type = "b"
        case S_IFIFO: type = "p"
        case S_IFSOCK: type = "s"
        default: type = "-"
        }
        var text = [type]
        let bits: [(mode_t, Character)] = [
            (0o400, "r"), (0o200, "w"), (0o100, "x"), (0o040, "r"), (0o020, "w"), (0o010, "x"), (0o004, "r"),
            (0o002, "w"), (0o001, "x"),
        ]
        for (bit, letter) in bits { text.append(mode & bit != 0 ? letter : "-") }
        if mode & 0o4000 != 0 { text[3] = text[3] == "x" ? "s" : "S" }
        if mode & 0o2000 != 0 { text[6] = text[6] == "x" ? "s" : "S" }
        if mode & 0o1000 != 0 { text[9] = text[9] == "x" ? "t" : "T" }
        return String(text)
    }
}

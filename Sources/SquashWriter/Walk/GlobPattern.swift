/// A gitignore-like path pattern for excludes, matched against paths relative to the backup root.
///
/// - `*` matches any run of characters within one path segment, `?` one character, `[abc]`, `[a-z]`
///   and `[!abc]` one character from a set; `\` escapes the next character.
/// - `**` as a whole segment matches any number of segments (`a/**/b`, `**/cache`); a trailing `/**`
///   matches everything inside a directory but not the directory itself.
/// - A pattern without a `/` (other than a trailing one) matches a name at any depth: `*.o` excludes
///   every object file. A pattern with a `/` is anchored at the root; a leading `/` anchors explicitly.
/// - A trailing `/` matches directories only.
public struct GlobPattern: Sendable, Hashable, CustomStringConvertible {
    public let description: String
    private let segments: [[UInt8]]
    private let directoryOnly: Bool

    /// Parses `pattern`; throws `BuildError.invalidOptions` for an empty pattern or an unclosed `[`.
    public init(_ pattern: String) throws {
        description = pattern
        var text = pattern
        var directoryOnly = false
        while text.hasSuffix("/") && text.count > 1 {
            text.removeLast()
            directoryOnly = true
        }
        var anchored = false
        if text.hasPrefix("/") {
            anchored = true
            text.removeFirst()
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: true).map { Array($0.utf8) }
        guard !parts.isEmpty else { throw BuildError.invalidOptions("empty exclude pattern \"\(pattern)\"") }
        for part in parts where !GlobPattern.isWellFormed(part) {
            throw BuildError.invalidOptions("unclosed [ in exclude pattern \"\(pattern)\"")
        }
        if !anchored && parts.count == 1 && parts[0] != Array("**".utf8) {
            segments = [Array("**".utf8)] + parts
        } else {
            segments = parts
        }
        self.directoryOnly = directoryOnly
    }

    /// Whether `path` (relative to the root, `/`-separated, no leading `/`) matches.
    public func matches(_ path: String, isDirectory: Bool) -> Bool {
        matches(path: Array(path.utf8), isDirectory: isDirectory)
    }

    /// Byte-level variant for names that are not valid UTF-8.
    public func matches(path: [UInt8], isDirectory: Bool) -> Bool {
        if directoryOnly && !isDirectory { return false }
        let names = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map { Array($0) }
        return match(segment: 0, name: 0, names)
    }

    private static let doubleStar = Array("**".utf8)

    private func match(segment: Int, name: Int, _ names: [[UInt8]]) -> Bool {
        if segment == segments.count { return name == names.count }
        if segments[segment] == GlobPattern.doubleStar {
            // A trailing ** needs at least one name, so "dir/**" leaves "dir" itself alone.
            let minimum = segment == segments.count - 1 && segment > 0 ? 1 : 0
            if segment == segments.count - 1 { return names.count - name >= minimum }
            var next = name
            while next <= names.count {
                if match(segment: segment + 1, name: next, names) { return true }
                next += 1
            }
            return false
        }
        guard name < names.count, GlobPattern.wildcard(segments[segment], names[name]) else { return false }
        return match(segment: segment + 1, name: name + 1, names)
    }

    private static func isWellFormed(_ pattern: [UInt8]) -> Bool {
        var index = 0
        while index < pattern.count {
            switch pattern[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "["):
                guard let close = classEnd(pattern, index) else { return false }
                index = close + 1
            default: index += 1
            }
        }
        return true
    }

    /// The index of the `]` closing the class that starts at `start`.
    private static func classEnd(_ pattern: [UInt8], _ start: Int) -> Int? {
        var index = start + 1
        if index < pattern.count && (pattern[index] == UInt8(ascii: "!") || pattern[index] == UInt8(ascii: "^")) {
            index += 1
        }
        if index < pattern.count && pattern[index] == UInt8(ascii: "]") { index += 1 }
        while index < pattern.count {
            if pattern[index] == UInt8(ascii: "]") { return index }
            index += 1
        }
        return nil
    }

    /// Length of the UTF-8 character starting at `index`, so that `?` matches a character, not a byte.
    private static func characterLength(_ bytes: [UInt8], _ index: Int) -> Int {
        let lead = bytes[index]
        let length: Int
        switch lead {
        case 0xF0...0xF7: length = 4
        case 0xE0...0xEF: length = 3
        case 0xC0...0xDF: length = 2
        default: length = 1
        }
        var end = index + 1
        while end < min(bytes.count, index + length) && bytes[end] & 0xC0 == 0x80 { end += 1 }
        return end - index
    }

    /// Matches one segment: backtracking over the last `*`, which is linear enough for file names.
    static func wildcard(_ pattern: [UInt8], _ name: [UInt8]) -> Bool {
        var p = 0
        var n = 0
        var starP = -1
        var starN = 0
        while n < name.count {
            if p < pattern.count {
                let c = pattern[p]
                if c == UInt8(ascii: "*") {
                    starP = p
                    starN = n
                    p += 1
                    continue
                }
                if c == UInt8(ascii: "?") {
                    n += characterLength(name, n)
                    p += 1
                    continue
                }
                if c == UInt8(ascii: "["), let close = classEnd(pattern, p) {
                    let length = characterLength(name, n)
                    if classMatches(pattern, p, close, Array(name[n..<n + length])) {
                        n += length
                        p = close + 1
                        continue
                    }
                } else {
                    var literal = c
                    var width = 1
                    if c == UInt8(ascii: "\\") && p + 1 < pattern.count {
                        literal = pattern[p + 1]
                        width = 2
                    }
                    if literal == name[n] {
                        n += 1
                        p += width
                        continue
                    }
                }
            }
            guard starP >= 0 else { return false }
            starN += characterLength(name, starN)
            n = starN
            p = starP + 1
        }
        while p < pattern.count && pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }

    private static func classMatches(_ pattern: [UInt8], _ open: Int, _ close: Int, _ character: [UInt8]) -> Bool {
        var index = open + 1
        var negated = false
        if pattern[index] == UInt8(ascii: "!") || pattern[index] == UInt8(ascii: "^") {
            negated = true
            index += 1
        }
        var found = false
        while index < close {
            if index + 2 < close && pattern[index + 1] == UInt8(ascii: "-") {
                if character.count == 1 && character[0] >= pattern[index] && character[0] <= pattern[index + 2] {
                    found = true
                }
                index += 3
            } else {
                if character == [pattern[index]] { found = true }
                index += 1
            }
        }
        return found != negated
    }
}

/// Percent-encoding by the SigV4/S3 rules: every byte but `A-Z a-z 0-9 - _ . ~` becomes `%XX`
/// (uppercase hex); object keys keep `/` so that the URL path and the canonical URI agree.
public enum S3URIEncoding {
    /// Encodes one query name or value (or one path segment).
    public static func encode(_ string: String) -> String { encode(string, keepingSlash: false) }

    /// Encodes an object key for the URL path, keeping `/`.
    public static func encodeKey(_ key: String) -> String { encode(key, keepingSlash: true) }

    static func encode(_ string: String, keepingSlash: Bool) -> String {
        var encoded = ""
        encoded.reserveCapacity(string.utf8.count)
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepingSlash:
                encoded.append("/")
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                encoded.unicodeScalars.append("%")
                encoded.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                encoded.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0xF)]))
            }
        }
        return encoded
    }

    /// `name=value` pairs encoded and sorted by name then value, joined with `&`: both the
    /// canonical query string and the query we send, so the two never disagree.
    public static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query.map { (encode($0.name), encode($0.value)) }
            .sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }
}

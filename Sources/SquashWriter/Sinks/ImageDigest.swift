import Crypto

/// The fingerprint a sink gives a finished image: the exact SHA-256 when it can read its bytes back
/// or hold them, else the composite SHA-256 of the parts it uploaded.
public enum ImageDigest: Sendable, Equatable {
    /// SHA-256 of the whole image (32 bytes).
    case sha256([UInt8])
    /// SHA-256 over the parts' SHA-256s, for an image uploaded in parts.
    case composite(CompositeSHA256)

    /// The whole-image SHA-256 as 64 lowercase hex digits, when that is what the sink computed.
    public var sha256Hex: String? {
        if case .sha256(let bytes) = self { return bytes.lowercaseHex }
        return nil
    }

    /// The composite digest, when the image went up in parts.
    public var composite: CompositeSHA256? {
        if case .composite(let digest) = self { return digest }
        return nil
    }
}

/// SHA-256 over the concatenated 32-byte SHA-256s of an object's consecutive `partSize`-byte parts
/// (the last part may be shorter), in part order.
///
/// The form of S3's composite SHA-256 checksum for multipart uploads. It exists because an image's
/// superblock at offset 0 is written last: the whole-object SHA-256 would need the image read back,
/// while each part can be hashed as it is uploaded, and the store checks each part against that hash.
public struct CompositeSHA256: Codable, Sendable, Equatable {
    /// 64 lowercase hex digits.
    public var sha256: String
    public var partSize: Int
    public var partCount: Int

    public init(sha256: String, partSize: Int, partCount: Int) {
        self.sha256 = sha256
        self.partSize = partSize
        self.partCount = partCount
    }

    /// Combines the parts' digests, given in part order.
    public init(partSize: Int, partDigests: [[UInt8]]) {
        var hasher = SHA256()
        for digest in partDigests { hasher.update(data: digest) }
        self.init(sha256: Array(hasher.finalize()).lowercaseHex, partSize: partSize, partCount: partDigests.count)
    }
}

extension [UInt8] {
    var lowercaseHex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(count * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

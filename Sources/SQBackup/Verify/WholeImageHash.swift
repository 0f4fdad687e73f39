import Crypto
import ImageDigests
import SquashWriter

/// The whole-image hash meta.json records, recomputed from bytes fed in image order: SHA-256 of
/// the image, or the composite of its parts' SHA-256s. Parts whose digest a reader already
/// computed (a range that is exactly one part) are taken as they are.
struct WholeImageHash {
    enum Expected {
        case sha256(String)
        case composite(CompositeSHA256)
    }

    let expected: Expected
    private var whole = SHA256()
    private var part = SHA256()
    private var partBytes = 0
    private var partDigests: [[UInt8]] = []

    init(expected: Expected) {
        self.expected = expected
    }

    /// The hash meta.json records for `meta`, if any.
    static func expected(for meta: BackupMetadata) -> Expected? {
        if let composite = meta.compositeSha256 { return .composite(composite) }
        if let sha256 = meta.sha256 { return .sha256(sha256) }
        return nil
    }

    /// The part size when ranges of exactly one part let readers hash parts in parallel.
    var partSize: Int? {
        if case .composite(let composite) = expected, composite.partSize > 0 { return composite.partSize }
        return nil
    }

    /// Feeds the next bytes of the image; `digest` is their SHA-256 when they are exactly one part.
    mutating func feed(_ bytes: ArraySlice<UInt8>, digest: [UInt8]?) {
        switch expected {
        case .sha256: whole.update(data: bytes)
        case .composite(let composite):
            if let digest, partBytes == 0, bytes.count == composite.partSize {
                partDigests.append(digest)
                return
            }
            var rest = bytes
            while !rest.isEmpty {
                let take = min(rest.count, composite.partSize - partBytes)
                part.update(data: rest.prefix(take))
                partBytes += take
                rest = rest.dropFirst(take)
                if partBytes == composite.partSize { closePart() }
            }
        }
    }

    /// Whether everything fed matches the recorded hash.
    mutating func matches() -> Bool {
        switch expected {
        case .sha256(let recorded):
            return BlockDigestTable.hex(whole.finalize()) == recorded.lowercased()
        case .composite(let recorded):
            if partBytes > 0 { closePart() }
            var combined = SHA256()
            for digest in partDigests { combined.update(data: digest) }
            return partDigests.count == recorded.partCount
                && BlockDigestTable.hex(combined.finalize()) == recorded.sha256.lowercased()
        }
    }

    private mutating func closePart() {
        partDigests.append(Array(part.finalize()))
        part = SHA256()
        partBytes = 0
    }
}

import ImageDigests
import Storage

/// Whether a digest table accounts for every byte of an image: its entries lie end to end from
/// offset 0, and after the last one come only the zeros the builder pads the image with to a
/// multiple of 4 KiB. Then the table, anchored in meta.json, proves the whole image: every entry
/// matching and the padding zero means the image is byte for byte the one create hashed, and any
/// entry not matching means it is not. A verify then needs one pass over the bytes, not two.
struct TableCoverage: Sendable {
    static let padding: UInt64 = 4096

    /// Where the zero padding starts.
    let paddingStart: UInt64
    let imageSize: UInt64

    /// nil when the table leaves a gap, or the image is not exactly the covered bytes plus padding.
    init?(table: BlockDigestTable, imageSize: UInt64) {
        guard let end = table.contiguousEnd, end > 0,
            (end + Self.padding - 1) / Self.padding * Self.padding == imageSize
        else { return nil }
        paddingStart = end
        self.imageSize = imageSize
    }

    /// Whether the padding bytes that lie in `range` (read as `bytes`) are all zero.
    func paddingIsZero(_ range: ByteRange, _ bytes: [UInt8]) -> Bool {
        guard range.end > paddingStart else { return true }
        let start = Int(max(paddingStart, range.offset) - range.offset)
        return bytes[start...].allSatisfy { $0 == 0 }
    }
}

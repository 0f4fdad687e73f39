import Crypto
import Foundation

/// One namespace of the disk cache (an image as of one ETag): its folder under the cache
/// directory, `<directory>/<key>/`, and the names of its entries, `<offset>-<length>.blk` (both
/// in hex). The key is the first 16 bytes of a SHA-256 of the caller's namespace and the entry
/// format version, and seeds every entry's checksum (see `DiskCacheEntry`).
struct DiskCacheNamespace: Sendable {
    static let entrySuffix = ".blk"
    /// Written files start under such a name and are linked under their entry names once whole.
    static let temporaryPrefix = ".tmp-"

    let key: [UInt8]
    /// The folder holding this namespace's entries.
    let directory: String

    init(name: String, in cacheDirectory: String) {
        // The format version is part of the key: entries of another format live elsewhere (and
        // age out by LRU) instead of passing hydration's presence check and failing every read.
        key = Array(SHA256.hash(data: Array("\(name)\u{0}format \(DiskCacheEntry.version)".utf8)).prefix(16))
        directory = (cacheDirectory as NSString).appendingPathComponent(key.map { String(format: "%02x", $0) }.joined())
    }

    /// The path of the entry for the block at `offset` of `length` bytes.
    func path(offset: UInt64, length: Int) -> String {
        directory + "/" + String(offset, radix: 16) + "-" + String(length, radix: 16) + Self.entrySuffix
    }
}

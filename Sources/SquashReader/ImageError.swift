import Storage

/// Why an image could not be opened or read. Messages say what is wrong and where.
public enum ImageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes are not a squashfs 4.0 image.
    case notSquashfs(image: String, reason: String)
    /// The image uses a compressor this build of libsquashfs lacks.
    case unsupportedCompressor(image: String, name: String)
    /// A structure inside the image is inconsistent.
    case corrupt(image: String, reason: String)
    /// The bytes could not be fetched.
    case storage(StorageError)
    /// Stored bytes differ from the digest recorded when the backup was created: the superblock or
    /// the metadata tables (`region`), checked before anything in them is decoded.
    case damagedMetadata(image: String, region: String)
    /// A data or fragment block differs from its recorded digest; it is served to no one.
    case damagedBlock(image: String, offset: UInt64, length: Int)
    /// The digest table does not describe this image (another image's, or damaged).
    case digestTableMismatch(image: String, reason: String)

    public var description: String {
        switch self {
        case .notSquashfs(let image, let reason): return "\(image): not a squashfs image (\(reason))"
        case .unsupportedCompressor(let image, let name):
            return
                "\(image): unsupported compressor '\(name)' (this build supports gzip, xz, lz4 and zstd); rebuild the image with one of those"
        case .corrupt(let image, let reason): return "\(image): corrupt image: \(reason)"
        case .storage(let error): return error.description
        case .damagedMetadata(let image, let region):
            return "\(image): the \(region) do not match the digest recorded at create: the stored image is damaged"
        case .damagedBlock(let image, let offset, let length):
            return
                "\(image): the block at offset \(offset) (\(length) bytes) does not match the digest recorded at create: the stored image is damaged"
        case .digestTableMismatch(let image, let reason):
            return "\(image): the block digest table does not describe this image (\(reason))"
        }
    }
}

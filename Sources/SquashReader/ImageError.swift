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

    public var description: String {
        switch self {
        case .notSquashfs(let image, let reason): return "\(image): not a squashfs image (\(reason))"
        case .unsupportedCompressor(let image, let name):
            return
                "\(image): unsupported compressor '\(name)' (this build supports gzip, xz, lz4 and zstd); rebuild the image with one of those"
        case .corrupt(let image, let reason): return "\(image): corrupt image: \(reason)"
        case .storage(let error): return error.description
        }
    }
}

import CSquashfs

/// Names for libsquashfs's negative status codes, for error messages.
enum SquashfsStatus {
    static func describe(_ code: Int32) -> String {
        switch code {
        case SQFS_ERROR_ALLOC.rawValue: return "out of memory"
        case SQFS_ERROR_IO.rawValue: return "I/O error"
        case SQFS_ERROR_COMPRESSOR.rawValue: return "compressed data is invalid"
        case SQFS_ERROR_INTERNAL.rawValue: return "internal libsquashfs error"
        case SQFS_ERROR_CORRUPTED.rawValue: return "structure is corrupted"
        case SQFS_ERROR_UNSUPPORTED.rawValue: return "unsupported feature"
        case SQFS_ERROR_OVERFLOW.rawValue: return "numeric overflow"
        case SQFS_ERROR_OUT_OF_BOUNDS.rawValue: return "location out of bounds"
        case SFQS_ERROR_SUPER_MAGIC.rawValue: return "bad magic number"
        case SFQS_ERROR_SUPER_VERSION.rawValue: return "unsupported squashfs version"
        case SQFS_ERROR_SUPER_BLOCK_SIZE.rawValue: return "invalid block size"
        case SQFS_ERROR_NOT_DIR.rawValue: return "not a directory"
        case SQFS_ERROR_NO_ENTRY.rawValue: return "no such entry"
        case SQFS_ERROR_LINK_LOOP.rawValue: return "directory loop"
        case SQFS_ERROR_NOT_FILE.rawValue: return "not a file"
        case SQFS_ERROR_ARG_INVALID.rawValue: return "invalid argument"
        case SQFS_ERROR_SEQUENCE.rawValue: return "call sequence error"
        default: return "libsquashfs error \(code)"
        }
    }
}

import CSquashfs

/// Names for libsquashfs's negative `SQFS_ERROR` codes.
enum LibraryError {
    static func name(_ code: Int32) -> String {
        switch code {
        case -1: return "out of memory"
        case -2: return "I/O error"
        case -3: return "compressor error"
        case -4: return "internal error"
        case -5: return "corrupted data"
        case -6: return "unsupported"
        case -7: return "overflow"
        case -8: return "out of bounds"
        case -11: return "bad block size"
        case -12: return "not a directory"
        case -13: return "no such entry"
        case -14: return "link loop"
        case -15: return "not a file"
        case -16: return "invalid argument"
        case -17: return "call out of sequence"
        default: return "error"
        }
    }
}

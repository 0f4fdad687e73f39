import CSquashfs
import CSquashfsShims
import Storage

#if canImport(Glibc)
    import Glibc
#endif

/// The image head and metadata tail held in memory, served to libsquashfs as a `sqfs_file_t`.
///
/// All metadata tables lie after the data, so two range reads (head, tail) let libsquashfs
/// parse the whole directory tree without touching the network again.
final class MetadataWindow: @unchecked Sendable {
    // Immutable after init; the C side only reads. Hence @unchecked Sendable.
    let source: any RangeSource
    private let head: [UInt8]
    private var tail: [UInt8] = []
    private var tailOffset: UInt64 = 0
    /// The last storage failure, so a libsquashfs I/O error can be reported with its cause.
    var lastError: StorageError?

    init(source: any RangeSource, headLength: Int) throws {
        self.source = source
        head = try source.read(offset: 0, length: headLength)
    }

    func loadTail(from offset: UInt64, to end: UInt64) throws {
        guard end > offset else { return }
        if end <= UInt64(head.count) {
            tail = Array(head[Int(offset)..<Int(end)])
        } else {
            tail = try source.read(offset: offset, length: Int(end - offset))
        }
        tailOffset = offset
    }

    /// The bytes of `offset ..< offset + length` when the head or the loaded tail holds them all.
    func kept(offset: UInt64, length: Int) -> ArraySlice<UInt8>? {
        let end = offset + UInt64(length)
        if end <= UInt64(head.count) { return head[Int(offset)..<Int(end)] }
        if offset >= tailOffset, end <= tailOffset + UInt64(tail.count) {
            return tail[Int(offset - tailOffset)..<Int(end - tailOffset)]
        }
        return nil
    }

    fileprivate func read(offset: UInt64, into buffer: UnsafeMutableRawPointer, size: Int) -> Int32 {
        if offset + UInt64(size) <= UInt64(head.count) {
            head.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress! + Int(offset), byteCount: size) }
            return 0
        }
        if offset >= tailOffset, offset + UInt64(size) <= tailOffset + UInt64(tail.count) {
            tail.withUnsafeBytes {
                buffer.copyMemory(from: $0.baseAddress! + Int(offset - tailOffset), byteCount: size)
            }
            return 0
        }
        do {
            let bytes = try source.read(offset: offset, length: size)
            bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: size) }
            return 0
        } catch let error as StorageError {
            lastError = error
            if case .outOfRange = error { return SQFS_ERROR_OUT_OF_BOUNDS.rawValue }
            return SQFS_ERROR_IO.rawValue
        } catch {
            return SQFS_ERROR_IO.rawValue
        }
    }

    /// A new libsquashfs file object over this window; destroy it with `sqb_destroy`.
    func makeFile() -> UnsafeMutablePointer<sqfs_file_t>? {
        let context = Unmanaged.passRetained(self).toOpaque()
        let callbacks = sqb_file_callbacks(
            read_at: { context, offset, buffer, size in
                guard let context, let buffer else { return SQFS_ERROR_ARG_INVALID.rawValue }
                let window = Unmanaged<MetadataWindow>.fromOpaque(context).takeUnretainedValue()
                return window.read(offset: offset, into: buffer, size: size)
            },
            write_at: nil,
            get_size: { context in
                guard let context else { return 0 }
                return Unmanaged<MetadataWindow>.fromOpaque(context).takeUnretainedValue().source.size
            },
            truncate: nil,
            release: { context in
                guard let context else { return }
                Unmanaged<MetadataWindow>.fromOpaque(context).release()
            })
        guard let file = sqb_file_create(context, callbacks) else {
            Unmanaged<MetadataWindow>.fromOpaque(context).release()
            return nil
        }
        return file
    }
}

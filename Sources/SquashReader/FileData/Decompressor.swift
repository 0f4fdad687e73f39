import CSquashfs
import CSquashfsShims
import Synchronization

/// One libsquashfs decompressor. libsquashfs decompressors keep state (gzip does), so each is
/// used by one thread at a time, handed out by `DecompressorPool`.
final class Decompressor: @unchecked Sendable {
    private let pointer: UnsafeMutablePointer<sqfs_compressor_t>
    fileprivate var pointerForLibrary: UnsafeMutablePointer<sqfs_compressor_t> { pointer }

    init(pointer: UnsafeMutablePointer<sqfs_compressor_t>) {
        self.pointer = pointer
    }

    deinit { sqb_destroy(pointer) }

    /// Decompresses `input` into at most `capacity` bytes; nil when the data is invalid.
    func decompress(_ input: UnsafeRawBufferPointer, capacity: Int) -> [UInt8]? {
        guard let base = input.baseAddress, capacity > 0 else { return nil }
        var produced: Int32 = 0
        let output = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
            produced = pointer.pointee.do_block(
                pointer, base.assumingMemoryBound(to: UInt8.self), UInt32(input.count), buffer.baseAddress!,
                UInt32(capacity))
            count = produced > 0 ? Int(produced) : 0
        }
        return produced > 0 ? output : nil
    }
}

/// Hands out decompressors so that concurrent FUSE reads never share one.
final class DecompressorPool: Sendable {
    private let idle = Mutex<[Decompressor]>([])
    private let factory: @Sendable () throws -> Decompressor

    init(factory: @escaping @Sendable () throws -> Decompressor) {
        self.factory = factory
    }

    func withDecompressor<T>(_ body: (Decompressor) throws -> T) throws -> T {
        let decompressor = try idle.withLock { $0.popLast() } ?? factory()
        defer { idle.withLock { $0.append(decompressor) } }
        return try body(decompressor)
    }
}

extension Decompressor {
    /// Lends the raw compressor to libsquashfs calls made on this thread.
    func withPointer<T>(_ body: (UnsafeMutablePointer<sqfs_compressor_t>) throws -> T) rethrows -> T {
        try body(pointerForLibrary)
    }
}

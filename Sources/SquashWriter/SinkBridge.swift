import CSquashfs
import CSquashfsShims
import Synchronization

/// Presents an `ImageSink` to libsquashfs as an append-only `sqfs_file_t`.
///
/// Writes must land at the current end; the one exception is the final superblock at offset 0,
/// which is captured for `ImageSink.finish(header:)`. Anything else (a read, a truncate, a write
/// elsewhere) would mean the library tried to deduplicate or rewrite; it fails with
/// `SQFS_ERROR_IO` and the reason is kept for the builder to throw.
///
/// The state is guarded by a lock because the block processor may call in from its own threads.
final class SinkBridge: @unchecked Sendable {
    private struct State {
        var sink: any ImageSink
        var size: UInt64 = 0
        var header: [UInt8]?
        var failure: BuildError?
    }

    private let lock = Mutex(())
    private var unsafeState: State

    init(sink: any ImageSink) {
        precondition(sink.bytesWritten == 0, "the sink must be empty")
        unsafeState = State(sink: sink)
    }

    private func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
        try lock.withLock { _ in try body(&unsafeState) }
    }

    var size: UInt64 { withLock { $0.size } }
    var header: [UInt8]? { withLock { $0.header } }
    var failure: BuildError? { withLock { $0.failure } }

    /// Appends bytes outside libsquashfs (the padding at the end).
    func append(_ bytes: UnsafeRawBufferPointer) throws {
        try withLock { state in
            try state.sink.write(bytes)
            state.size += UInt64(bytes.count)
        }
    }

    func write(at offset: UInt64, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        withLock { state in
            if offset == state.size {
                do {
                    try state.sink.write(bytes)
                    state.size += UInt64(bytes.count)
                    return 0
                } catch let error as BuildError {
                    state.failure = state.failure ?? error
                } catch {
                    state.failure = state.failure ?? .output(path: "image", reason: "\(error)")
                }
                return SQFS_ERROR_IO.rawValue
            }
            if offset == 0 && bytes.count <= 96 && state.size >= 96 {
                state.header = Array(bytes)
                return 0
            }
            state.failure =
                state.failure
                ?? .output(
                    path: "image",
                    reason: "libsquashfs wrote \(bytes.count) bytes at \(offset), but the image is append-only "
                        + "and ends at \(state.size)")
            return SQFS_ERROR_IO.rawValue
        }
    }

    func refuse(_ what: String) -> Int32 {
        withLock { state in
            state.failure =
                state.failure ?? .output(path: "image", reason: "libsquashfs tried to \(what) the append-only image")
        }
        return SQFS_ERROR_IO.rawValue
    }

    /// A new `sqfs_file_t` that keeps this bridge alive until libsquashfs destroys the file.
    func makeFile() -> UnsafeMutablePointer<sqfs_file_t>? {
        let context = Unmanaged.passRetained(self).toOpaque()
        let callbacks = sqb_file_callbacks(
            read_at: { context, offset, _, size in
                Unmanaged<SinkBridge>.fromOpaque(context!).takeUnretainedValue().refuse(
                    "read \(size) bytes at \(offset) of")
            },
            write_at: { context, offset, buffer, size in
                Unmanaged<SinkBridge>.fromOpaque(context!).takeUnretainedValue()
                    .write(at: offset, UnsafeRawBufferPointer(start: buffer, count: size))
            },
            get_size: { context in
                Unmanaged<SinkBridge>.fromOpaque(context!).takeUnretainedValue().size
            },
            truncate: { context, size in
                Unmanaged<SinkBridge>.fromOpaque(context!).takeUnretainedValue().refuse("truncate to \(size) bytes")
            },
            release: { context in
                Unmanaged<SinkBridge>.fromOpaque(context!).release()
            })
        guard let file = sqb_file_create(context, callbacks) else {
            Unmanaged<SinkBridge>.fromOpaque(context).release()
            return nil
        }
        return file
    }
}

import CSquashfs
import CSquashfsShims
import Crypto
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
        /// The first bytes as first written (placeholder superblock, compressor options).
        var head: [UInt8] = []
        /// A running digest of what is appended from `regionStart` on, while one is open.
        var region: SHA256?
        var regionStart: UInt64 = 0
    }

    /// How much of the image's start is kept for `headBytes`: more than the superblock and the
    /// largest compressor options.
    static let headCapture = 4096

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

    /// The image's first `count` bytes as they will be once finished (the final superblock over
    /// the placeholder); nil before the final superblock is written.
    func finalHead(count: Int) -> [UInt8]? {
        withLock { state in
            guard let header = state.header, count >= header.count, count <= state.head.count else { return nil }
            return header + state.head[header.count..<count]
        }
    }

    /// Starts digesting what is appended from now on (the metadata tables).
    func beginRegion() {
        withLock { state in
            state.region = SHA256()
            state.regionStart = state.size
        }
    }

    /// Ends the digest `beginRegion` started: where the region starts, its length and SHA-256.
    func endRegion() -> (start: UInt64, length: UInt64, digest: [UInt8])? {
        withLock { state in
            defer { state.region = nil }
            return state.region.map { (state.regionStart, state.size - state.regionStart, Array($0.finalize())) }
        }
    }

    /// Appends to the sink, keeping the head and the open region's digest up to date.
    private static func appendLocked(_ bytes: UnsafeRawBufferPointer, _ state: inout State) throws {
        try state.sink.write(bytes)
        if state.head.count < headCapture {
            state.head += bytes.prefix(headCapture - state.head.count)
        }
        state.region?.update(bufferPointer: bytes)
        state.size += UInt64(bytes.count)
    }

    /// Appends bytes outside libsquashfs (the padding at the end).
    func append(_ bytes: UnsafeRawBufferPointer) throws {
        try withLock { state in try Self.appendLocked(bytes, &state) }
    }

    func write(at offset: UInt64, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        withLock { state in
            if offset == state.size {
                do {
                    try Self.appendLocked(bytes, &state)
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

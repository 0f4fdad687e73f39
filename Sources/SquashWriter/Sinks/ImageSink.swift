/// A sequential destination for a squashfs image: bytes are appended in order, the header comes last.
///
/// The builder appends every byte of the image front to back, starting with a placeholder superblock.
/// Only when everything else is written does it know the real superblock, so `finish(header:)` hands
/// over the final bytes for offset 0 (`header.count` is at most `ImageSink.headerSize`). A sink never
/// has to seek anywhere else, which is what lets a multipart upload hold back its first part and
/// stream all the others as they fill.
///
/// The SHA-256 of the final image cannot be computed in one streaming pass: its first 96 bytes change
/// at the very end, and SHA-256 is sequential. Each sink therefore returns a digest from `finish`
/// by the cheapest route it has: a file sink re-reads its file (sequential, page-cached), a memory
/// sink hashes its buffer. A sink that can't read back what it wrote (a multipart upload) returns
/// the composite SHA-256 of its parts instead, each hashed as it went up.
///
/// Sinks are driven from one thread at a time.
public protocol ImageSink: AnyObject {
    /// Bytes appended so far (the image size once finished); read by progress reporters.
    var bytesWritten: UInt64 { get }

    /// Appends `bytes` at offset `bytesWritten`.
    func write(_ bytes: UnsafeRawBufferPointer) throws

    /// Replaces the first `header.count` bytes with `header`, completes the image, and returns the
    /// digest of the final image bytes. Called once, after the last `write`.
    func finish(header: [UInt8]) throws -> ImageDigest
}

extension ImageSink {
    /// The most bytes `finish(header:)` replaces at offset 0 (the squashfs superblock).
    public static var headerSize: Int { 96 }
}

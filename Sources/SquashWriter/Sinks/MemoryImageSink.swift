import Crypto

/// An `ImageSink` that keeps the whole image in memory; for tests and small images.
public final class MemoryImageSink: ImageSink {
    /// The image bytes; final once `finish(header:)` has returned.
    public private(set) var bytes: [UInt8] = []
    public private(set) var isFinished = false

    public init() {}

    public var bytesWritten: UInt64 { UInt64(bytes.count) }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !isFinished else { throw BuildError.output(path: "<memory>", reason: "the image is already finished") }
        self.bytes.append(contentsOf: bytes)
    }

    public func finish(header: [UInt8]) throws -> ImageDigest {
        guard !isFinished else { throw BuildError.output(path: "<memory>", reason: "the image is already finished") }
        precondition(header.count <= Self.headerSize && header.count <= bytes.count)
        bytes.replaceSubrange(0..<header.count, with: header)
        isFinished = true
        return .sha256(Array(SHA256.hash(data: bytes)))
    }
}

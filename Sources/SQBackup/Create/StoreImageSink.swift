import SquashWriter
import Storage

/// Makes a store's `SequentialObjectWriter` the builder's `ImageSink`: sizes the writer's parts from
/// the scanned tree, and turns its failures into what `BackupCreator` reports.
///
/// The superblock is the writer's prefix that is replaced at the end. The store failure behind a
/// failed write is kept in `failure`, because the builder rewraps sink errors.
///
/// `@unchecked Sendable`: like every sink it is driven from the building thread only, and the builder's
/// progress callbacks (which call `plan` and read `bytesUploaded`) run on that same thread.
final class StoreImageSink: ImageSink, @unchecked Sendable {
    let writer: any SequentialObjectWriter
    /// The store failure behind a failed write, as a `BackupError` when the facade decides its wording.
    private(set) var failure: (any Error)?

    init(writer: any SequentialObjectWriter) {
        self.writer = writer
    }

    var key: String { writer.key }
    var bytesWritten: UInt64 { writer.bytesWritten }
    /// Image bytes the store has acknowledged.
    var bytesUploaded: UInt64 { writer.bytesStored }

    /// Sizes parts from the scanned tree, before the first byte arrives: 10,000 parts (S3's limit)
    /// must cover the largest image the tree could give, with every block stored uncompressed.
    func plan(fileBytes: UInt64, files: Int, blockSize: Int) {
        writer.plan(maximumSize: Self.largestImage(fileBytes: fileBytes, files: files, blockSize: blockSize))
    }

    static func partSize(fileBytes: UInt64, files: Int, blockSize: Int, minimum: Int) -> Int {
        MultipartObjectWriter.partSize(
            maximumSize: largestImage(fileBytes: fileBytes, files: files, blockSize: blockSize), minimum: minimum)
    }

    /// Data, a 4-byte size per block, inode + directory entry (with a long name) per file, plus room
    /// for directories, fragments and tables.
    static func largestImage(fileBytes: UInt64, files: Int, blockSize: Int) -> UInt64 {
        let blocks = fileBytes / UInt64(max(blockSize, 4096)) + UInt64(files)
        return fileBytes + blocks * 4 + UInt64(files) * 512 + (64 << 20)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        do {
            try writer.write(bytes)
        } catch {
            throw recorded(error)
        }
    }

    func finish(header: [UInt8]) throws -> ImageDigest {
        do {
            switch try writer.finish(replacingPrefixWith: header) {
            case .sha256(let digest): return .sha256(digest)
            case .parts(let partSize, let digests):
                return .composite(CompositeSHA256(partSize: partSize, partDigests: digests))
            }
        } catch {
            throw recorded(error)
        }
    }

    /// Removes whatever was stored; returns what could not be removed, or nil.
    @discardableResult
    func abort() -> String? { writer.abort() }

    private func recorded(_ error: any Error) -> any Error {
        let reported = Self.reported(error)
        failure = failure ?? reported
        return reported
    }

    /// Cancellation and an image that outgrew its parts are create failures in the facade's words;
    /// other store failures go on to `BackupCreator.storeFailure`.
    static func reported(_ error: any Error) -> any Error {
        switch error as? StorageError {
        case .cancelled(let reason)?: return BackupError(.createFailed, reason)
        case .tooManyParts(_, let partSize)?:
            return BackupError(
                .createFailed, "the image outgrew 10,000 parts of \(partSize) bytes (the tree grew while it was read)")
        default: return error
        }
    }
}

import SquashWriter

/// What `BackupCreator` needs of the sink it builds an image into, besides `ImageSink`: sizing from
/// the scanned tree, progress, the store failure behind a failed write, and cleanup.
protocol BackupImageSink: ImageSink, Sendable {
    /// Image bytes the store holds so far.
    var bytesUploaded: UInt64 { get }
    /// The store failure behind a failed write, kept because the builder rewraps sink errors.
    var failure: (any Error)? { get }
    /// Called with the scanned tree's totals before the first byte arrives.
    func plan(fileBytes: UInt64, files: Int, blockSize: Int)
    /// Removes whatever was stored; returns what could not be removed, or nil.
    @discardableResult
    func abort() -> String?
}

import Storage

/// One call a test double received, as its request log shows it.
public struct StoreRequest: Hashable, Sendable, CustomStringConvertible {
    /// Which call it was.
    public enum Operation: String, Hashable, Sendable {
        case head, get, put, delete, list
        case createMultipartUpload, uploadPart, completeMultipartUpload, abortMultipartUpload, listMultipartUploads
        /// A `RangeSource` read.
        case read
    }

    /// Position in the log, from 0; what index-based faults match.
    public var index: Int
    public var operation: Operation
    /// The object key (the prefix for listings, the source's name for reads).
    public var key: String
    public var range: ByteRange?
    public var partNumber: Int?
    /// Bytes sent (put, uploadPart) or returned (get, read); filled in when the call returns.
    public var bytes: Int

    public init(
        index: Int = 0, operation: Operation, key: String, range: ByteRange? = nil, partNumber: Int? = nil,
        bytes: Int = 0
    ) {
        self.index = index
        self.operation = operation
        self.key = key
        self.range = range
        self.partNumber = partNumber
        self.bytes = bytes
    }

    public var description: String {
        var text = "#\(index) \(operation.rawValue) \(key)"
        if let range { text += " \(range)" }
        if let partNumber { text += " part \(partNumber)" }
        return text + " (\(bytes) bytes)"
    }
}

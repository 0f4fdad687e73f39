import Storage

/// Opens an object with ranged GETs sent at once instead of a HEAD: one for its head (whose
/// Content-Range and ETag give the size and version) and, optionally, one for its tail
/// (`bytes=-N` needs no size). Both bodies are kept, so an image reader's superblock and
/// metadata-table reads cost no further round trip when the tables fit in the tail.
struct HeadTailOpener {
    /// The answers of one opening; the tail is only a shortcut, so its failure is not the open's.
    struct Answers {
        /// The answer to the head read, whatever its status.
        let head: HTTPResponse
        let tail: HTTPResponse?
        let headLength: Int

        /// The bytes of both answers that belong to the version `etag` of an object of `size` bytes.
        func kept(size: UInt64, etag: String?) -> KeptBytes {
            KeptBytes(
                size: size, head: head.head(length: headLength, size: size) ?? [],
                tail: tail?.tail(size: size, etag: etag) ?? [])
        }
    }

    /// How much of the head the first read asks for (at least 1 byte).
    let headLength: Int
    /// How much of the end the second read asks for; 0 sends no second read.
    let tailLength: Int

    init(headLength: Int, tailLength: Int) {
        self.headLength = max(1, headLength)
        self.tailLength = max(0, tailLength)
    }

    /// Sends the reads concurrently through `get`, which sends one (retried) GET with the given
    /// `Range` header value; throws only when the head read fails.
    func open(_ get: @escaping @Sendable (_ range: String) throws -> HTTPResponse) throws -> Answers {
        let ranges = ["bytes=0-\(headLength - 1)"] + (tailLength > 0 ? ["bytes=-\(tailLength)"] : [])
        let answers = try ParallelWork.map(count: ranges.count, width: ranges.count) { index in
            Result { try get(ranges[index]) }
        }
        return Answers(
            head: try answers[0].get(), tail: answers.count > 1 ? try? answers[1].get() : nil,
            headLength: headLength)
    }
}

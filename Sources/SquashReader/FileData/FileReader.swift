import Synchronization

/// Reads one open file of an image and keeps a readahead window ahead of sequential readers
/// (see `ReadaheadWindow`).
public final class FileReader: Sendable {
    public let id: NodeID
    private let image: SquashImage
    private let budget: ReadaheadBudget
    private let window: Mutex<ReadaheadWindow>

    init(image: SquashImage, id: NodeID, initialWindow: Int, maxWindow: Int, budget: ReadaheadBudget) {
        self.image = image
        self.id = id
        self.budget = budget
        window = Mutex(ReadaheadWindow(initial: initialWindow, maximum: maxWindow))
    }

    deinit {
        if window.withLock({ $0.streaming }) { budget.leave() }
    }

    public func read(offset: UInt64, length: Int) throws -> [UInt8] {
        SquashImage.joined(try readPieces(offset: offset, length: length))
    }

    /// `read` as slices of the cached blocks (see `SquashImage.readPieces`).
    public func readPieces(offset: UInt64, length: Int) throws -> [ArraySlice<UInt8>] {
        let ahead = window.withLock { $0.advance(offset: offset, length: length, budget: budget) }
        if let ahead { image.prefetch(id, offset: ahead.offset, length: ahead.length) }
        return try image.readPieces(id, offset: offset, length: length)
    }
}

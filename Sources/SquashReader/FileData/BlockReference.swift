/// Where one block of file data lives and how big it is once decompressed.
struct BlockReference: Sendable {
    /// On-disk offset; also the cache key (data and fragment blocks never share an offset).
    var offset: UInt64
    var word: UInt32
    /// Exact decompressed size for data blocks; nil for fragment blocks (any size up to the block size).
    var expectedSize: Int?

    var storedSize: Int { BlockWord.storedSize(word) }
    var isSparse: Bool { storedSize == 0 }
}

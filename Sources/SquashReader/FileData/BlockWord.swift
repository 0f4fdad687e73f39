/// The on-disk size word of a squashfs data or fragment block.
enum BlockWord {
    /// Set when the block is stored uncompressed.
    static let uncompressedFlag: UInt32 = 1 << 24
    static let sizeMask: UInt32 = (1 << 24) - 1

    static func storedSize(_ word: UInt32) -> Int { Int(word & sizeMask) }
    static func isCompressed(_ word: UInt32) -> Bool { word & uncompressedFlag == 0 }
}

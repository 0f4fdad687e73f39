import CSquashfs
import CSquashfsShims

// Opening: the small tables read whole through libsquashfs; inodes and listings wait.
extension ImageIndex {
    /// Reads the id and fragment tables and the root inode of the image whose metadata `window`
    /// holds; everything else is decoded when first asked for.
    static func open(
        superblock: UnsafeMutablePointer<sqfs_super_t>, window: MetadataWindow, imageName: String,
        decompressors: DecompressorPool, makeDecompressor: () throws -> Decompressor, cacheBytes: Int,
        statistics: ReaderStatistics, rejectedEntryHandler: (@Sendable (String) -> Void)?
    ) throws -> ImageIndex {
        func corrupt(_ what: String, _ code: Int32) -> ImageError {
            .corrupt(image: imageName, reason: "\(what): \(SquashfsStatus.describe(code))")
        }
        guard let file = window.makeFile() else { throw ImageError.corrupt(image: imageName, reason: "out of memory") }
        defer { sqb_destroy(file) }
        let decompressor = try makeDecompressor()
        let (ids, fragments) = try decompressor.withPointer { compressor in
            guard let idTable = sqfs_id_table_create(0) else { throw corrupt("id table", SQFS_ERROR_ALLOC.rawValue) }
            defer { sqb_destroy(UnsafeMutableRawPointer(idTable)) }
            var status = sqfs_id_table_read(idTable, file, superblock, compressor)
            guard status == 0 else { throw corrupt("id table", status) }
            var ids = [UInt32]()
            for position in 0..<Int(superblock.pointee.id_count) {
                var id: UInt32 = 0
                status = sqfs_id_table_index_to_id(idTable, UInt16(position), &id)
                guard status == 0 else { throw corrupt("id \(position)", status) }
                ids.append(id)
            }
            let fragments =
                superblock.pointee.fragment_entry_count > 0
                ? try loadFragments(superblock: superblock, file: file, compressor: compressor, corrupt: corrupt) : []
            return (ids, fragments)
        }
        let sb = superblock.pointee
        let xattrs = try XattrStore(
            superblock: sb, window: window, decompressor: try makeDecompressor(), imageName: imageName)
        // Three quarters of the metadata budget hold decompressed blocks, the rest decoded inodes and listings.
        let tables = MetadataTables(
            imageName: imageName, window: window, start: sb.inode_table_start, end: sb.bytes_used,
            decompressors: decompressors, cacheBytes: cacheBytes * 3 / 4, statistics: statistics)
        return try ImageIndex(
            superblock: sb, tables: tables, ids: ids, fragments: fragments, xattrs: xattrs, cacheBytes: cacheBytes / 4,
            rejectedEntryHandler: rejectedEntryHandler)
    }

    /// The fragment table: where each fragment block lies and its size word.
    private static func loadFragments(
        superblock: UnsafeMutablePointer<sqfs_super_t>, file: UnsafeMutablePointer<sqfs_file_t>,
        compressor: UnsafeMutablePointer<sqfs_compressor_t>, corrupt: (String, Int32) -> ImageError
    ) throws -> [Fragment] {
        guard let fragmentTable = sqfs_frag_table_create(0) else {
            throw corrupt("fragment table", SQFS_ERROR_ALLOC.rawValue)
        }
        defer { sqb_destroy(UnsafeMutableRawPointer(fragmentTable)) }
        var status = sqfs_frag_table_read(fragmentTable, file, superblock, compressor)
        guard status == 0 else { throw corrupt("fragment table", status) }
        let count = sqfs_frag_table_get_size(fragmentTable)
        var fragments = [Fragment]()
        fragments.reserveCapacity(count)
        for position in 0..<count {
            var fragment = sqfs_fragment_t()
            status = sqfs_frag_table_lookup(fragmentTable, UInt32(position), &fragment)
            guard status == 0 else { throw corrupt("fragment \(position)", status) }
            fragments.append(.init(start: fragment.start_offset, word: fragment.size))
        }
        return fragments
    }
}

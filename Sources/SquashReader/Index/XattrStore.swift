import CSquashfs
import CSquashfsShims
import Synchronization

/// The image's extended attributes, read on demand through libsquashfs's xattr reader (which is
/// not thread-safe, hence the lock) over the metadata fetched at open. Sets already read are kept:
/// images hold few distinct sets, shared by many entries.
final class XattrStore: @unchecked Sendable {
    // The C objects are touched only under `state`'s lock; destroyed in deinit.
    private let reader: OpaquePointer
    private let file: UnsafeMutablePointer<sqfs_file_t>
    private let decompressor: Decompressor
    private let superblock: UnsafeMutablePointer<sqfs_super_t>
    private let state = Mutex<[UInt32: [ExtendedAttribute]]>([:])
    private let imageName: String
    /// Number of xattr sets in the image.
    let setCount: UInt32
    private static let keptSets = 4096

    /// nil when the image has no xattr table.
    init?(superblock sb: sqfs_super_t, window: MetadataWindow, decompressor: Decompressor, imageName: String) throws {
        guard sb.xattr_id_table_start != UInt64.max, sb.flags & UInt16(SQFS_FLAG_NO_XATTRS.rawValue) == 0 else {
            return nil
        }
        self.imageName = imageName
        self.decompressor = decompressor
        superblock = UnsafeMutablePointer<sqfs_super_t>.allocate(capacity: 1)
        superblock.initialize(to: sb)
        guard let file = window.makeFile(), let reader = sqfs_xattr_reader_create(0) else {
            superblock.deallocate()
            throw ImageError.corrupt(image: imageName, reason: "cannot allocate the xattr reader")
        }
        self.file = file
        self.reader = reader
        let header = window.kept(offset: sb.xattr_id_table_start + 8, length: 4).map(Array.init) ?? [0, 0, 0, 0]
        setCount = UInt32(header[0]) | UInt32(header[1]) << 8 | UInt32(header[2]) << 16 | UInt32(header[3]) << 24
        let status = decompressor.withPointer { sqfs_xattr_reader_load(reader, superblock, file, $0) }
        guard status == 0 else {
            throw ImageError.corrupt(image: imageName, reason: "xattr table: \(SquashfsStatus.describe(status))")
        }
    }

    deinit {
        sqb_destroy(UnsafeMutableRawPointer(reader))
        sqb_destroy(file)
        superblock.deallocate()
    }

    private func corrupt(_ what: String, _ code: Int32) -> ImageError {
        .corrupt(image: imageName, reason: "\(what): \(SquashfsStatus.describe(code))")
    }

    /// The attributes of set `index`, with their full names ("user.comment").
    func attributes(_ index: UInt32) throws -> [ExtendedAttribute] {
        try state.withLock { kept in
            if let found = kept[index] { return found }
            let attributes = try read(index)
            if kept.count >= Self.keptSets { kept.removeAll(keepingCapacity: true) }
            kept[index] = attributes
            return attributes
        }
    }

    private func read(_ index: UInt32) throws -> [ExtendedAttribute] {
        var descriptor = sqfs_xattr_id_t()
        var status = sqfs_xattr_reader_get_desc(reader, index, &descriptor)
        guard status == 0 else { throw corrupt("xattr set \(index)", status) }
        status = sqfs_xattr_reader_seek_kv(reader, &descriptor)
        guard status == 0 else { throw corrupt("xattr set \(index)", status) }
        var attributes = [ExtendedAttribute]()
        for _ in 0..<descriptor.count {
            var key: UnsafeMutablePointer<sqfs_xattr_entry_t>?
            status = sqfs_xattr_reader_read_key(reader, &key)
            guard status == 0, let key else { throw corrupt("xattr key in set \(index)", status) }
            defer { sqfs_free(key) }
            var value: UnsafeMutablePointer<sqfs_xattr_value_t>?
            status = sqfs_xattr_reader_read_value(reader, key, &value)
            guard status == 0, let value else { throw corrupt("xattr value in set \(index)", status) }
            defer { sqfs_free(value) }
            // libsquashfs returns the key with its prefix restored and NUL-terminated;
            // `size` still counts only the stored suffix.
            let name = String(cString: sqb_xattr_entry_key(key)!)
            let bytes = Array(UnsafeBufferPointer(start: sqb_xattr_value_bytes(value), count: Int(value.pointee.size)))
            attributes.append(ExtendedAttribute(name: name, value: bytes))
        }
        return attributes
    }
}

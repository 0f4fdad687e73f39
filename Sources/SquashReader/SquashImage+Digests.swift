import CSquashfs
import ImageDigests

/// The checks of an image's head and metadata against its digest table, made before libsquashfs
/// decodes a byte of them: a damaged superblock or inode table must fail the open with a clear
/// error, not be parsed into a wrong tree.
extension SquashImage {
    static func checkHead(_ window: MetadataWindow, _ digests: BlockDigestTable, name: String) throws {
        guard let entry = digests.first(.superblock), entry.offset == 0 else {
            throw ImageError.digestTableMismatch(image: name, reason: "it has no superblock entry")
        }
        guard let bytes = window.kept(offset: 0, length: Int(entry.length)) else {
            throw ImageError.digestTableMismatch(
                image: name, reason: "its superblock entry is \(entry.length) bytes, past the image's head")
        }
        guard digests.check(bytes, at: 0) == .verified else {
            throw ImageError.damagedMetadata(image: name, region: "superblock and compressor options")
        }
    }

    static func checkMetadata(
        _ window: MetadataWindow, _ digests: BlockDigestTable, superblock sb: sqfs_super_t, name: String
    ) throws {
        guard let entry = digests.first(.metadata) else {
            throw ImageError.digestTableMismatch(image: name, reason: "it has no metadata entry")
        }
        // The superblock passed its check, so these offsets are the ones written at create.
        guard entry.offset == sb.inode_table_start, entry.end == sb.bytes_used,
            let bytes = window.kept(offset: entry.offset, length: Int(entry.length))
        else {
            throw ImageError.digestTableMismatch(
                image: name,
                reason: "its metadata entry covers \(entry.offset)..<\(entry.end), the superblock says "
                    + "\(sb.inode_table_start)..<\(sb.bytes_used)")
        }
        guard digests.check(bytes, at: entry.offset) == .verified else {
            throw ImageError.damagedMetadata(
                image: name, region: "metadata tables (inodes, directories, fragments, ids)")
        }
    }
}

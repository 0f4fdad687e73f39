import Crypto
import ImageDigests
import Storage

extension BackupCatalog {
    /// The block digest table of a backup, fetched and checked against the SHA-256 and entry count
    /// meta.json records for it; nil for a backup that has none (written before digests existed,
    /// or by the vendor's SDK), whose data can only be read unverified.
    public func blockDigests(of meta: BackupMetadata) throws -> BlockDigestTable? {
        guard let record = meta.blockDigests else { return nil }
        let key = BackupID.digestsKey(meta.id)
        let bytes: [UInt8]
        do {
            bytes = try store.get(key)
        } catch StorageError.notFound {
            throw BackupError(
                .invalidImage,
                "backup \(meta.id): its block digest table \(key) is missing from \(storeName), so its data "
                    + "cannot be verified")
        } catch {
            throw BackupError.wrapping(error, as: .invalidImage)
        }
        guard BlockDigestTable.hex(SHA256.hash(data: bytes)) == record.sha256 else {
            throw BackupError(
                .invalidImage,
                "backup \(meta.id): its block digest table \(key) is damaged (its SHA-256 does not match meta.json)")
        }
        do {
            let table = try BlockDigestTable(decoding: bytes)
            guard table.count == record.count else {
                throw BlockDigestTableError.malformed("\(table.count) entries where meta.json says \(record.count)")
            }
            return table
        } catch {
            throw BackupError(.invalidImage, "backup \(meta.id): its block digest table \(key) is unusable: \(error)")
        }
    }
}

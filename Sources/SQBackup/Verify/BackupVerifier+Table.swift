import Crypto
import ImageDigests
import Storage

extension BackupVerifier {
    /// Loads `backups/<id>/blocks.sha256` and checks it against meta.json's anchor before
    /// decoding it, so a damaged table is reported as such rather than as damaged blocks.
    func loadTable(meta: BackupMetadata, imageSize: UInt64) throws -> DigestTableState {
        guard let record = meta.blockDigests else { return .absent }
        let bytes: [UInt8]
        do {
            bytes = try catalog.store.get(BackupID.digestsKey(meta.id))
        } catch StorageError.notFound {
            return .damaged("blocks.sha256 is missing")
        }
        guard BlockDigestTable.hex(SHA256.hash(data: bytes)) == record.sha256.lowercased() else {
            return .damaged("its SHA-256 differs from the one meta.json records")
        }
        let table: BlockDigestTable
        do {
            table = try BlockDigestTable(decoding: bytes)
        } catch {
            return .damaged("\(error)")
        }
        guard table.count == record.count else {
            return .damaged("it holds \(table.count) entries, meta.json records \(record.count)")
        }
        if table.count > 0, table.entry(atIndex: table.count - 1).end > imageSize {
            return .damaged("it describes bytes past the end of the \(imageSize)-byte image")
        }
        return .intact(table)
    }
}

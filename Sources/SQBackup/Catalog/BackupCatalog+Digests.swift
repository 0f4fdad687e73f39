import Crypto
import ImageDigests
import Storage

/// A backup's meta.json, its image and, when reads are verified, its checked digest table.
struct OpenedBackup: Sendable {
    let meta: BackupMetadata
    let source: any RangeSource
    let digests: BlockDigestTable?
}

extension BackupCatalog {
    /// Resolves backup `id` (refusing unknown and expired ones) and, with `verify`, fetches its
    /// digest table while the image's head and tail are fetched: a mount or restore by id costs
    /// meta.json, then one round trip.
    func open(_ id: String, verify: Bool) throws -> OpenedBackup {
        try open(try liveMetadata(id), verify: verify)
    }

    /// `open(_:verify:)` for a backup whose live meta.json the caller has already read.
    func open(_ meta: BackupMetadata, verify: Bool) throws -> OpenedBackup {
        guard verify, meta.blockDigests != nil else {
            return OpenedBackup(meta: meta, source: try openImage(of: meta), digests: nil)
        }
        enum Part: Sendable {
            case source(any RangeSource)
            case digests(BlockDigestTable?)
        }
        let parts = try ParallelWork.map(count: 2, width: 2) { index -> Part in
            index == 0 ? .source(try openImage(of: meta)) : .digests(try blockDigests(of: meta))
        }
        guard case .source(let source) = parts[0], case .digests(let digests) = parts[1] else {
            preconditionFailure("ParallelWork.map returns results in order")
        }
        return OpenedBackup(meta: meta, source: source, digests: digests)
    }

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

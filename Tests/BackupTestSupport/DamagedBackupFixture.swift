import Foundation
import SQBackup
import Storage
import TestSupport

/// A backup made by `create` from a small known tree, and ways to damage it where it is stored:
/// its data blocks all belong to `big.bin`; its fragment block holds the tails of `big.bin` and
/// the two files under `notes/`.
public struct DamagedBackupFixture: Sendable {
    public let fixture: CatalogFixture
    public let kind: CatalogStoreKind
    public let backup: BackupMetadata
    /// The stretches `blocks.sha256` records, by kind (its binary layout, read independently of
    /// the code under test): record = offset u64, length u32, kind u8 (1 data, 2 fragment,
    /// 3 superblock, 4 metadata), padding, SHA-256.
    public let dataBlocks: [ByteRange]
    public let fragmentBlocks: [ByteRange]
    public let metadata: ByteRange

    public var id: String { backup.id }

    /// Creates the backup; `bigFileBytes` sizes `big.bin` (make it exceed `minimumPartSize` for a multipart image).
    public static func make(
        _ kind: CatalogStoreKind, work: TemporaryDirectory, bigFileBytes: Int = 700_000, minimumPartSize: Int? = nil
    ) throws -> DamagedBackupFixture {
        let fixture = try kind.make()
        let source = work.child("tree")
        try FileManager.default.createDirectory(atPath: source + "/notes", withIntermediateDirectories: true)
        try Data(TestTree.pseudoRandomBytes(count: bigFileBytes, seed: 11))
            .write(to: URL(fileURLWithPath: source + "/big.bin"))
        try Data(String(repeating: "alpha ", count: 300).utf8).write(to: URL(fileURLWithPath: source + "/notes/a.txt"))
        try Data(String(repeating: "beta ", count: 200).utf8).write(to: URL(fileURLWithPath: source + "/notes/b.txt"))
        var options = BackupOptions()
        if let minimumPartSize { options.minimumPartSize = minimumPartSize }
        let backup = try fixture.catalog.createBackup(dir: source, options: options)
        let meta = try fixture.catalog.show(backup.id)
        let table = try fixture.store.get("backups/\(backup.id)/blocks.sha256")
        var byKind: [UInt8: [ByteRange]] = [:]
        for record in stride(from: 24, to: table.count, by: 48) {
            let offset = (0..<8).reduce(UInt64(0)) { $0 | UInt64(table[record + $1]) << (8 * $1) }
            let length = (0..<4).reduce(0) { $0 | Int(table[record + 8 + $1]) << (8 * $1) }
            byKind[table[record + 12], default: []].append(ByteRange(offset: offset, length: length))
        }
        guard let metadata = byKind[4]?.first, let data = byKind[1], let fragments = byKind[2] else {
            throw FixtureError("blocks.sha256 of \(backup.id) lacks data, fragment or metadata records")
        }
        return DamagedBackupFixture(
            fixture: fixture, kind: kind, backup: meta, dataBlocks: data, fragmentBlocks: fragments, metadata: metadata)
    }

    /// Flips one bit of the byte at `offset` of `backups/<id>/<name>`: in place in the local store,
    /// by a plain PUT of the changed object on S3.
    public func flipByte(at offset: UInt64, of name: String = "data.sqsh") throws {
        let key = "backups/\(id)/\(name)"
        switch kind {
        case .local:
            let root = String(fixture.storeArguments.last!.dropFirst("file://".count))
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: root + "/" + key))
            defer { try? handle.close() }
            try handle.seek(toOffset: offset)
            let byte = try handle.read(upToCount: 1) ?? Data()
            try handle.seek(toOffset: offset)
            try handle.write(contentsOf: Data([byte.first! ^ 0x10]))
        case .s3, .s3OverTLS:
            var bytes = try fixture.store.get(key)
            bytes[Int(offset)] ^= 0x10
            try fixture.store.put(key, bytes: bytes)
        }
    }

    /// Makes the backup look like one written before digest tables (or by the vendor's SDK): no
    /// blocks.sha256 and no `blockDigests` in meta.json; the whole-image hash stays.
    public func dropDigests() throws {
        try fixture.store.delete("backups/\(id)/blocks.sha256")
        let metaKey = "backups/\(id)/meta.json"
        var object = try JSONSerialization.jsonObject(with: Data(try fixture.store.get(metaKey))) as! [String: Any]
        object.removeValue(forKey: "blockDigests")
        try fixture.store.put(metaKey, bytes: Array(try JSONSerialization.data(withJSONObject: object)))
    }

    /// A fixture's own failure, with what went wrong.
    public struct FixtureError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}

import Foundation
import SquashWriter

/// The contents of `backups/<id>/meta.json`: the vendor SDK's fields plus ours.
///
/// The vendor writes only `id`, `dir`, `name`, `sizeBytes`, `ttl` (seconds) and `createdAt`;
/// such files decode with `expiresAt = createdAt + ttl` and every field of ours absent.
public struct BackupMetadata: Codable, Sendable, Equatable {
    /// The default lifetime of a backup, as in the spec: 7 days.
    public static let defaultTTL = 7 * 24 * 3600
    /// The meta.json layout version this code writes; absent in vendor-written files.
    public static let currentFormat = 1

    // The vendor's fields.
    public var id: String
    public var dir: String
    public var name: String
    public var sizeBytes: UInt64
    /// Lifetime in seconds.
    public var ttl: Int
    public var createdAt: Date

    // Ours.
    public var expiresAt: Date
    public var format: Int?
    public var sandboxId: String?
    public var description: String?
    public var metadata: [String: String]?
    /// SHA-256 of `data.sqsh`, 64 lowercase hex digits; written for images stored whole (the local
    /// store, a single PUT).
    public var sha256: String?
    /// For images uploaded in parts instead of `sha256`: SHA-256 over the SHA-256s of the parts of
    /// `data.sqsh` (`partSize` bytes each, the last shorter), computed while uploading.
    public var compositeSha256: CompositeSHA256?
    /// The block digest table beside the image (`blocks.sha256`); absent for backups written
    /// before it existed and by the vendor's SDK, which are therefore unverified.
    public var blockDigests: BlockDigestsRecord?
    public var compressor: String?
    public var compressionLevel: Int?
    public var blockSize: Int?
    public var fileCount: Int?
    /// Bytes of regular-file data in the tree, for the compression ratio.
    public var sourceBytes: UInt64?

    public init(
        id: String, dir: String, sizeBytes: UInt64, createdAt: Date, ttl: Int = BackupMetadata.defaultTTL,
        sandboxId: String? = nil, description: String? = nil, metadata: [String: String]? = nil
    ) {
        self.id = id
        self.dir = dir
        self.name = description ?? (dir as NSString).lastPathComponent
        self.sizeBytes = sizeBytes
        self.ttl = ttl
        self.createdAt = createdAt
        self.expiresAt = createdAt.addingTimeInterval(TimeInterval(ttl))
        self.format = Self.currentFormat
        self.sandboxId = sandboxId
        self.description = description
        self.metadata = metadata
    }

    private enum CodingKeys: String, CodingKey {
        case id, dir, name, sizeBytes, ttl, createdAt, expiresAt, format, sandboxId, description, metadata, sha256
        case compositeSha256, blockDigests
        case compressor, compressionLevel, blockSize, fileCount, sourceBytes
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        dir = try container.decode(String.self, forKey: .dir)
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? (dir as NSString).lastPathComponent
        // JavaScript writes numbers; tolerate a fractional value where an integer is meant.
        sizeBytes = UInt64(try container.decode(Double.self, forKey: .sizeBytes))
        ttl = Int(try container.decodeIfPresent(Double.self, forKey: .ttl) ?? Double(Self.defaultTTL))
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        expiresAt =
            try container.decodeIfPresent(Date.self, forKey: .expiresAt)
            ?? createdAt.addingTimeInterval(TimeInterval(ttl))
        format = try container.decodeIfPresent(Int.self, forKey: .format)
        sandboxId = try container.decodeIfPresent(String.self, forKey: .sandboxId)
        description = try container.decodeIfPresent(String.self, forKey: .description)
        metadata = try container.decodeIfPresent([String: String].self, forKey: .metadata)
        sha256 = try container.decodeIfPresent(String.self, forKey: .sha256)
        compositeSha256 = try container.decodeIfPresent(CompositeSHA256.self, forKey: .compositeSha256)
        blockDigests = try container.decodeIfPresent(BlockDigestsRecord.self, forKey: .blockDigests)
        compressor = try container.decodeIfPresent(String.self, forKey: .compressor)
        compressionLevel = try container.decodeIfPresent(Int.self, forKey: .compressionLevel)
        blockSize = try container.decodeIfPresent(Int.self, forKey: .blockSize)
        fileCount = try container.decodeIfPresent(Int.self, forKey: .fileCount)
        sourceBytes = try container.decodeIfPresent(UInt64.self, forKey: .sourceBytes)
    }

    /// Whether the backup has expired at `date`.
    public func isExpired(at date: Date) -> Bool { expiresAt <= date }

    /// The public view the spec defines.
    public var directoryBackup: DirectoryBackup {
        DirectoryBackup(
            id: id, sandboxId: sandboxId ?? "", dir: dir, sizeBytes: sizeBytes, createdAt: createdAt,
            expiresAt: expiresAt, description: description, metadata: metadata)
    }

    /// Decodes a stored meta.json of backup `id`, turning every failure into a message that names it.
    static func decode(_ bytes: [UInt8], backup id: String) throws -> BackupMetadata {
        let decoded: BackupMetadata
        do {
            decoded = try BackupJSON.decoder().decode(BackupMetadata.self, from: Data(bytes))
        } catch DecodingError.keyNotFound(let key, _) {
            throw BackupError(.invalidImage, "backup \(id): meta.json lacks the field \"\(key.stringValue)\"")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            throw BackupError(
                .invalidImage, "backup \(id): meta.json field \"\(context.fieldPath)\" has the wrong type")
        } catch DecodingError.dataCorrupted(let context) where !context.codingPath.isEmpty {
            throw BackupError(
                .invalidImage, "backup \(id): meta.json field \"\(context.fieldPath)\": \(context.debugDescription)")
        } catch {
            throw BackupError(.invalidImage, "backup \(id): meta.json is not valid JSON")
        }
        guard decoded.id == id else {
            throw BackupError(.invalidImage, "backup \(id): meta.json names another backup (\"\(decoded.id)\")")
        }
        return decoded
    }
}

extension DecodingError.Context {
    fileprivate var fieldPath: String { codingPath.map(\.stringValue).joined(separator: ".") }
}

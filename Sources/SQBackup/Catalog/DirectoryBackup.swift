import Foundation

/// A backup as the spec's API returns it.
public struct DirectoryBackup: Codable, Sendable, Equatable {
    /// A lowercase UUID.
    public var id: String
    /// The sandbox (or host) that created the backup; empty for vendor backups that don't record it.
    public var sandboxId: String
    /// The directory that was backed up.
    public var dir: String
    /// Size of the compressed image.
    public var sizeBytes: UInt64
    /// When the backup was created.
    public var createdAt: Date
    /// When the backup expires (7 days after creation by default); expired backups are pruned.
    public var expiresAt: Date
    /// The description given at create.
    public var description: String?
    /// The custom key-value pairs given at create.
    public var metadata: [String: String]?

    /// A backup record with every field given.
    public init(
        id: String, sandboxId: String, dir: String, sizeBytes: UInt64, createdAt: Date, expiresAt: Date,
        description: String? = nil, metadata: [String: String]? = nil
    ) {
        self.id = id
        self.sandboxId = sandboxId
        self.dir = dir
        self.sizeBytes = sizeBytes
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.description = description
        self.metadata = metadata
    }
}

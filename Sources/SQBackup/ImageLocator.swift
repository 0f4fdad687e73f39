import Storage

/// Turns what a user names (a local image path, for now) into a `RangeSource`.
public enum ImageLocator {
    public static func open(_ reference: String) throws -> any RangeSource {
        do {
            return try LocalFileSource(path: reference)
        } catch StorageError.notFound {
            throw BackupError(.notFound, "\(reference): image not found")
        }
    }
}

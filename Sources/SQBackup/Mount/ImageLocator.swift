import Foundation
import RemoteStorage
import Storage

/// Turns what a user names (a local image path, an http(s) URL, a backup id) into a `RangeSource`.
public enum ImageLocator {
    /// Opens a local image path (kept for callers that only deal with files).
    public static func open(_ reference: String) throws -> any RangeSource {
        try open(.file(path: reference), store: StoreSelection())
    }

    /// Opens `reference`; backup ids are resolved in the store `store` selects (refusing expired
    /// and unknown backups), URLs are read with range requests, trusting the CAs `store` names.
    /// `meter`, when given, counts every request sent for it from now on, opening ones included.
    public static func open(
        _ reference: ImageReference, store: StoreSelection,
        environment: [String: String] = ProcessInfo.processInfo.environment, meter: RequestMeter? = nil
    ) throws -> any RangeSource {
        switch reference {
        case .file(let path):
            do {
                let source = try LocalFileSource(path: path)
                return meter.map { MeteredRangeSource(source, meter: $0) } ?? source
            } catch StorageError.notFound {
                throw BackupError(.notFound, "\(path): image not found")
            }
        case .url(let url):
            let trust = try store.urlTrust(environment: environment)
            do {
                // The tail comes with the head: an image's metadata tables usually fit in 1 MiB.
                let client = meter.map { trust.client.metered(by: $0) } ?? trust.client
                return try HTTPRangeSource(url: url, client: client, tailLength: 1 << 20)
            } catch StorageError.notFound {
                throw BackupError(.notFound, "\(reference): image not found")
            } catch {
                throw BackupError.wrapping(error, as: .mountFailed)
            }
        case .backup(let id):
            return try BackupCatalog.open(store, environment: environment, meter: meter).resolve(id)
        }
    }

    /// Opens `reference` as `open` does and, for a backup with block digests, fetches and checks
    /// its digest table so that reads can be verified. With `verify` false, or for images that
    /// have no digests (files, URLs, older backups), reads are unverified and the reason says why.
    /// `meter`, when given, counts the requests sent for the image, its meta.json and digests included.
    public static func locate(
        _ reference: ImageReference, store: StoreSelection, verify: Bool,
        environment: [String: String] = ProcessInfo.processInfo.environment, meter: RequestMeter? = nil
    ) throws -> LocatedImage {
        guard case .backup(let id) = reference else {
            let source = try open(reference, store: store, environment: environment, meter: meter)
            // A local image file is the user's own copy: nothing to warn about. A URL is remote bytes.
            guard case .url = reference else {
                return LocatedImage(source: source, blockDigests: nil, unverifiedReason: nil, requests: meter)
            }
            return LocatedImage(
                source: source, blockDigests: nil,
                unverifiedReason: verify
                    ? "\(reference) has no block digests (only backups by id do)" : "verification is off",
                requests: meter)
        }
        let located = try BackupCatalog.open(store, environment: environment, meter: meter).locate(id, verify: verify)
        return LocatedImage(
            source: located.source, blockDigests: located.blockDigests, unverifiedReason: located.unverifiedReason,
            requests: meter)
    }
}

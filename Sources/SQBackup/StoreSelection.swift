import Foundation
import RemoteStorage
import Storage

/// Which store holds the backups: command-line choices on top of the environment.
///
/// Flags win over the spec's variables (`BACKUP_BUCKET_NAME`, `R2_*`, `CLOUDFLARE_ACCOUNT_ID`,
/// `BACKUP_BUCKET_ENDPOINT`), which win over the `AWS_*` ones; with no cloud setting at all the
/// local directory store is used (`SQBACKUP_STORE_DIR`, else the XDG data directory).
public struct StoreSelection: Sendable, Equatable {
    /// `file:///path`, `r2://bucket` or `s3://bucket?endpoint=…`.
    public var store: String?
    /// The bucket name; beats `BACKUP_BUCKET_NAME`.
    public var bucket: String?
    /// The S3 endpoint URL; beats `BACKUP_BUCKET_ENDPOINT`.
    public var endpoint: String?
    /// The signing region (default: `auto` for R2, else `AWS_REGION` or us-east-1).
    public var region: String?
    /// A PEM file of CAs that verify the store's (or an image URL's) TLS certificate; beats
    /// `AWS_CA_BUNDLE` (stores only), `CURL_CA_BUNDLE` and `SSL_CERT_FILE`.
    public var caBundle: String?

    /// A selection; what is nil comes from the environment.
    public init(
        store: String? = nil, bucket: String? = nil, endpoint: String? = nil, region: String? = nil,
        caBundle: String? = nil
    ) {
        self.store = store
        self.bucket = bucket
        self.endpoint = endpoint
        self.region = region
        self.caBundle = caBundle
    }

    /// Opens the selected store; configuration mistakes become INVALID_BACKUP_CONFIG naming the
    /// setting to fix (never its value when it is a secret).
    /// `meter`, when given, counts every request the store sends.
    public func open(
        environment: [String: String] = ProcessInfo.processInfo.environment, meter: RequestMeter? = nil
    ) throws -> any ObjectStore {
        do {
            let options = StoreOptions(
                store: store, bucket: bucket, endpoint: endpoint, region: region, caBundle: caBundle)
            return try StoreConfiguration.resolve(options, environment: environment).makeStore(meter: meter)
        } catch {
            throw BackupError.wrapping(error, as: .invalidConfig)
        }
    }

    /// The environment variables that may name a CA bundle (for stores or URLs).
    public static let caBundleVariables = TLSTrust.storeVariables

    /// The selection with a relative `caBundle` made absolute against `directory`, so that it names
    /// the same file from wherever the store is opened (the mount daemon runs from `/`).
    public func absolute(from directory: String = FileManager.default.currentDirectoryPath) -> StoreSelection {
        var selection = self
        selection.caBundle = caBundle.map { Self.absolute($0, from: directory) }
        return selection
    }

    /// `environment` with relative CA bundle variables (`caBundleVariables`) made absolute against
    /// `directory`; the others are returned as they are.
    public static func absolutizingCABundles(
        in environment: [String: String], from directory: String = FileManager.default.currentDirectoryPath
    ) -> [String: String] {
        var resolved = environment
        for name in caBundleVariables {
            guard let value = environment[name], !value.isEmpty, !value.hasPrefix("/") else { continue }
            resolved[name] = absolute(value, from: directory)
        }
        return resolved
    }

    private static func absolute(_ path: String, from directory: String) -> String {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: directory)).standardizedFileURL.path
    }

    /// The CAs that verify an image URL (not a store: `AWS_CA_BUNDLE` does not apply);
    /// an unusable CA file is INVALID_BACKUP_CONFIG naming it.
    func urlTrust(environment: [String: String]) throws -> TLSTrust {
        do {
            return try TLSTrust.resolve(explicit: caBundle, environment: environment, variables: TLSTrust.urlVariables)
        } catch {
            throw BackupError.wrapping(error, as: .invalidConfig)
        }
    }

    /// Whether `store` is a cloud bucket, where upload failures are reported as "R2/S3" failures.
    static func isRemote(_ store: any ObjectStore) -> Bool { !(store is LocalDirectoryStore) }
}

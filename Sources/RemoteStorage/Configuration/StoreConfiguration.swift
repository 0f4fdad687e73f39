import Foundation
import Storage

/// Which store to use, resolved from explicit options (`StoreOptions`), a store URL and the environment.
///
/// Order: explicit options first; then the spec's variables (`R2_ACCESS_KEY_ID`,
/// `R2_SECRET_ACCESS_KEY`, `CLOUDFLARE_ACCOUNT_ID`, `BACKUP_BUCKET_NAME`,
/// `BACKUP_BUCKET_ENDPOINT`); then the standard `AWS_*` ones. With no cloud setting at all
/// the local directory store is used (`SQBACKUP_STORE_DIR`, else the XDG data directory).
public enum StoreConfiguration: Sendable, Equatable, CustomStringConvertible {
    case local(directory: String)
    case s3(S3Configuration)

    public var description: String {
        switch self {
        case .local(let directory): return "local store at \(directory)"
        case .s3(let configuration): return "S3 \(configuration)"
        }
    }

    /// Opens the configured store; S3 talks through `client`, by default the process-wide client
    /// that trusts the configuration's CAs. With `meter`, every request the store sends is counted
    /// there (HTTP requests through a client of its own; calls, for the local store).
    public func makeStore(client: HTTPClient? = nil, meter: RequestMeter? = nil) throws -> any ObjectStore {
        switch self {
        case .local(let directory):
            let store = try LocalDirectoryStore(root: directory)
            return meter.map { MeteredObjectStore(store, meter: $0) } ?? store
        case .s3(let configuration):
            let client = client ?? configuration.trust.client
            return try S3Store(configuration: configuration, client: meter.map { client.metered(by: $0) } ?? client)
        }
    }

    /// Resolves the store from `options` and `environment` (pass the process environment).
    public static func resolve(
        _ options: StoreOptions = StoreOptions(), environment: [String: String]
    ) throws -> StoreConfiguration {
        let env = environment.filter { !$0.value.isEmpty }
        if let store = options.store ?? env["SQBACKUP_STORE"] {
            return try resolve(url: store, options: options, env: env)
        }
        let cloudVariables = [
            "BACKUP_BUCKET_NAME", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY", "CLOUDFLARE_ACCOUNT_ID",
            "BACKUP_BUCKET_ENDPOINT",
        ]
        let wantsCloud =
            options.bucket != nil || options.endpoint != nil || options.accessKeyId != nil
            || options.secretAccessKey != nil || cloudVariables.contains { env[$0] != nil }
        guard wantsCloud else {
            let directory =
                try options.directory ?? env["SQBACKUP_STORE_DIR"]
                ?? LocalDirectoryStore.defaultRoot(environment: env)
            return .local(directory: directory)
        }
        guard let bucket = options.bucket ?? env["BACKUP_BUCKET_NAME"] else {
            throw StoreConfigurationError.noBucket
        }
        let endpoint: String
        var isR2 = false
        if let explicit = options.endpoint ?? env["BACKUP_BUCKET_ENDPOINT"] {
            endpoint = explicit
        } else if let account = env["CLOUDFLARE_ACCOUNT_ID"] {
            endpoint = try r2Endpoint(account: account)
            isR2 = true
        } else if let aws = env["AWS_ENDPOINT_URL_S3"] ?? env["AWS_ENDPOINT_URL"] {
            endpoint = aws
        } else if env["R2_ACCESS_KEY_ID"] == nil, env["AWS_ACCESS_KEY_ID"] != nil || options.accessKeyId != nil {
            endpoint = "https://s3.\(env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? "us-east-1").amazonaws.com"
        } else {
            throw StorageError.invalidConfiguration(
                reason: "no endpoint for bucket \(bucket): set CLOUDFLARE_ACCOUNT_ID "
                    + "(or BACKUP_BUCKET_ENDPOINT for another S3-compatible endpoint)")
        }
        isR2 = isR2 || endpoint.contains(".r2.cloudflarestorage.com")
        let region =
            options.region ?? (isR2 ? "auto" : env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? "us-east-1")
        let credentials = try resolveCredentials(options: options, env: env, preferR2: true)
        return .s3(
            S3Configuration(
                endpoint: endpoint, bucket: bucket, region: region, credentials: credentials,
                trust: try trust(options: options, env: env)))
    }

    private static func resolve(url text: String, options: StoreOptions, env: [String: String]) throws
        -> StoreConfiguration
    {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased() else {
            throw StoreConfigurationError.storeURLNotAURL(text)
        }
        let query = Dictionary(
            (url.queryItems ?? []).compactMap { item in item.value.map { (item.name, $0) } },
            uniquingKeysWith: { $1 })
        switch scheme {
        case "file":
            let path = url.path
            guard path.hasPrefix("/"), url.host?.isEmpty ?? true else {
                throw StoreConfigurationError.storeFileURLNotAbsolute
            }
            return .local(directory: path)
        case "r2", "s3":
            guard let bucket = url.host, !bucket.isEmpty else {
                throw StoreConfigurationError.storeURLWithoutBucket(scheme: scheme)
            }
            let r2 = scheme == "r2"
            var endpoint = options.endpoint ?? query["endpoint"]
            if endpoint == nil {
                if r2 {
                    if let explicit = env["BACKUP_BUCKET_ENDPOINT"] {
                        endpoint = explicit
                    } else if let account = query["account"] ?? env["CLOUDFLARE_ACCOUNT_ID"] {
                        endpoint = try r2Endpoint(account: account)
                    }
                } else {
                    endpoint = env["AWS_ENDPOINT_URL_S3"] ?? env["AWS_ENDPOINT_URL"] ?? env["BACKUP_BUCKET_ENDPOINT"]
                }
            }
            let isR2 = r2 || (endpoint?.contains(".r2.cloudflarestorage.com") ?? false)
            let region =
                options.region ?? query["region"]
                ?? (isR2 ? "auto" : env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? "us-east-1")
            guard let endpoint = endpoint ?? (r2 ? nil : "https://s3.\(region).amazonaws.com") else {
                throw StorageError.invalidConfiguration(
                    reason: "no endpoint for r2://\(bucket): set CLOUDFLARE_ACCOUNT_ID (or BACKUP_BUCKET_ENDPOINT)")
            }
            let credentials = try resolveCredentials(options: options, env: env, preferR2: r2)
            return .s3(
                S3Configuration(
                    endpoint: endpoint, bucket: bucket, region: region, credentials: credentials,
                    trust: try trust(options: options, env: env)))
        default:
            throw StoreConfigurationError.unsupportedStoreScheme(scheme)
        }
    }

    /// The CAs for an S3/R2 endpoint: the explicit file, then `AWS_CA_BUNDLE`, `CURL_CA_BUNDLE`,
    /// `SSL_CERT_FILE`, else the system's.
    private static func trust(options: StoreOptions, env: [String: String]) throws -> TLSTrust {
        try TLSTrust.resolve(explicit: options.caBundle, environment: env, variables: TLSTrust.storeVariables)
    }

    static func r2Endpoint(account: String) throws -> String {
        guard !account.isEmpty, account.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw StorageError.invalidConfiguration(
                reason: "CLOUDFLARE_ACCOUNT_ID must be the account id (letters and digits), as shown in the dashboard")
        }
        return "https://\(account.lowercased()).r2.cloudflarestorage.com"
    }
}

/// Store settings given explicitly (command-line flags); nil means "not given".
public struct StoreOptions: Sendable, Equatable {
    /// `file:///path`, `r2://bucket` or `s3://bucket?endpoint=…&region=…`.
    public var store: String?
    public var bucket: String?
    public var endpoint: String?
    public var region: String?
    public var accessKeyId: String?
    public var secretAccessKey: String?
    public var sessionToken: String?
    /// The local store's directory.
    public var directory: String?
    /// A PEM file of CAs that verify the endpoint's TLS certificate (beats the environment's).
    public var caBundle: String?

    public init(
        store: String? = nil, bucket: String? = nil, endpoint: String? = nil, region: String? = nil,
        accessKeyId: String? = nil, secretAccessKey: String? = nil, sessionToken: String? = nil,
        directory: String? = nil, caBundle: String? = nil
    ) {
        self.store = store
        self.bucket = bucket
        self.endpoint = endpoint
        self.region = region
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.directory = directory
        self.caBundle = caBundle
    }
}

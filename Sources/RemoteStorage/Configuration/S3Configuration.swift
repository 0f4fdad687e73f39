/// Where an S3-compatible bucket lives and how to sign for it; descriptions never show the secret.
public struct S3Configuration: Sendable, Equatable, CustomStringConvertible {
    /// `https://host[:port][/path]`; the bucket is addressed path-style below it.
    public var endpoint: String
    public var bucket: String
    /// `auto` for R2.
    public var region: String
    public var credentials: AWSCredentials
    /// The CAs that verify the endpoint's certificate.
    public var trust: TLSTrust

    public init(
        endpoint: String, bucket: String, region: String, credentials: AWSCredentials, trust: TLSTrust = .system
    ) {
        self.endpoint = endpoint
        self.bucket = bucket
        self.region = region
        self.credentials = credentials
        self.trust = trust
    }

    public var description: String {
        let verified = trust.caBundle == nil ? "" : ", verified by \(trust)"
        return "bucket \(bucket) at \(endpoint) (region \(region), \(credentials)\(verified))"
    }
}

/// Where an S3-compatible bucket lives and how to sign for it; descriptions never show the secret.
public struct S3Configuration: Sendable, Equatable, CustomStringConvertible {
    /// `https://host[:port][/path]`; the bucket is addressed path-style below it.
    public var endpoint: String
    public var bucket: String
    /// `auto` for R2.
    public var region: String
    public var credentials: AWSCredentials

    public init(endpoint: String, bucket: String, region: String, credentials: AWSCredentials) {
        self.endpoint = endpoint
        self.bucket = bucket
        self.region = region
        self.credentials = credentials
    }

    public var description: String {
        "bucket \(bucket) at \(endpoint) (region \(region), \(credentials))"
    }
}

/// Timeouts and connection limits of an `HTTPClient`.
public struct HTTPClientOptions: Sendable, Equatable {
    /// TCP + TLS handshake.
    public var connectTimeout: Double = 10
    /// From the request being sent to the first response byte.
    public var firstByteTimeout: Double = 30
    /// No byte moved in either direction for this long aborts the transfer.
    public var stallTimeout: Double = 20
    /// Idle easy handles (each with its open connection) kept for reuse; bounds how many
    /// parallel requests find a warm connection.
    public var maxConnections: Int = 64
    /// A PEM file of the CA certificates that verify TLS servers, instead of the system's store.
    /// Given to libcurl as `CURLOPT_CAINFO`: Debian's libcurl reads no environment variable for it.
    public var caBundle: String?
    /// Ask for HTTP/2 over TLS (ALPN) instead of HTTP/1.1. Off: every pooled handle keeps its own
    /// connection, so HTTP/2 multiplexes nothing, and against nginx on loopback it was slower
    /// (512 parallel 60 KB ranges 71 vs 56 ms, 24 × 8 MiB 179 vs 157 ms, medians of 3).
    public var preferHTTP2: Bool = false

    public init() {}
}

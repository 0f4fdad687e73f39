/// A transfer that failed below HTTP (connect, reset, timeout, truncation, TLS), with what arrived.
public struct HTTPTransportError: Error, Sendable, CustomStringConvertible {
    /// Why the transfer failed, as far as retry decisions care.
    public enum Kind: Sendable, Equatable {
        case connect, timeout, reset, truncated, tls, other
        /// The server's TLS certificate did not verify against the trusted CAs (unknown issuer,
        /// wrong name, expired): a setting to fix, never retried and never bypassed.
        case untrustedCertificate
    }

    public var kind: Kind
    /// What failed, in libcurl's words where it has them; it contains no URL query. For
    /// `.untrustedCertificate`, what the certificate check said (the server is `peer`).
    public var message: String
    /// Status and headers if a response had started, with the body bytes that arrived.
    public var partial: HTTPResponse?
    /// `host:port` of the server, for failures that concern it (an untrusted certificate).
    public var peer: String?

    public init(kind: Kind, message: String, partial: HTTPResponse?, peer: String? = nil) {
        self.kind = kind
        self.message = message
        self.partial = partial
        self.peer = peer
    }

    public var description: String {
        guard kind == .untrustedCertificate else { return message }
        return "TLS certificate of \(peer ?? "the server") is not trusted (\(message))"
    }
}

/// A transfer that failed below HTTP (connect, reset, timeout, truncation), with what arrived.
public struct HTTPTransportError: Error, Sendable, CustomStringConvertible {
    /// Why the transfer failed, as far as retry decisions care.
    public enum Kind: Sendable, Equatable {
        case connect, timeout, reset, truncated, tls, other
    }

    public var kind: Kind
    /// libcurl's error text; it contains no URL.
    public var message: String
    /// Status and headers if a response had started, with the body bytes that arrived.
    public var partial: HTTPResponse?

    public var description: String { message }
}

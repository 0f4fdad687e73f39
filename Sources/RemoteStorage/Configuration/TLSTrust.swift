import Foundation

/// Which CA certificates verify TLS servers: a PEM file given explicitly or named by the
/// environment, else the system's store.
///
/// Debian's libcurl is built with a fixed CA path and reads none of the variables the curl tool
/// and the AWS SDKs honour, so they are read here and handed to libcurl as `CURLOPT_CAINFO`.
public struct TLSTrust: Sendable, Equatable, CustomStringConvertible {
    /// The PEM file (an absolute path); nil for the system's CAs.
    public var caBundle: String?
    /// The environment variable `caBundle` came from; nil when it was given explicitly.
    public var variable: String?

    /// The system's CAs.
    public static let system = TLSTrust(caBundle: nil, variable: nil)

    /// Variables that name a CA bundle for S3/R2 stores, strongest first.
    public static let storeVariables = ["AWS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"]
    /// Variables that name a CA bundle for any https URL, strongest first.
    public static let urlVariables = ["CURL_CA_BUNDLE", "SSL_CERT_FILE"]

    public init(caBundle: String?, variable: String? = nil) {
        self.caBundle = caBundle
        self.variable = variable
    }

    public var description: String {
        guard let caBundle else { return "the system's CAs" }
        return "CA bundle \(caBundle)" + (variable.map { " (from \($0))" } ?? "")
    }

    /// The process-wide HTTP client that trusts these CAs.
    public var client: HTTPClient { HTTPClient.trusting(caBundle: caBundle) }

    /// `explicit` (a command-line choice) first, then the first of `variables` set in
    /// `environment`, else the system's CAs. A named file must be a readable regular file: a
    /// missing one would otherwise show up later as every certificate being "untrusted".
    public static func resolve(explicit: String?, environment: [String: String], variables: [String]) throws
        -> TLSTrust
    {
        let chosen: TLSTrust
        if let explicit, !explicit.isEmpty {
            chosen = TLSTrust(caBundle: explicit)
        } else if let variable = variables.first(where: { environment[$0]?.isEmpty == false }) {
            chosen = TLSTrust(caBundle: environment[variable], variable: variable)
        } else {
            return .system
        }
        guard let path = chosen.caBundle else { return .system }
        let absolute =
            path.hasPrefix("/")
            ? path : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path).path
        try check(absolute, variable: chosen.variable)
        return TLSTrust(caBundle: absolute, variable: chosen.variable)
    }

    private static func check(_ path: String, variable: String?) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw StoreConfigurationError.caBundleUnusable(path: path, variable: variable, problem: .missing)
        }
        guard !isDirectory.boolValue else {
            throw StoreConfigurationError.caBundleUnusable(path: path, variable: variable, problem: .directory)
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreConfigurationError.caBundleUnusable(path: path, variable: variable, problem: .unreadable)
        }
        try? handle.close()
    }
}

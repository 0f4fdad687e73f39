/// A store selection that names no usable store. Each case says which setting is missing or
/// malformed in the store's own terms (environment variables, the store URL), never as a
/// command-line flag: the command line adds its own flag name when it reports one.
public enum StoreConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Half of an access key pair.
    public enum KeyPairHalf: Sendable, Equatable {
        case accessKeyId, secretAccessKey
    }

    /// What is wrong with a CA bundle file.
    public enum FileProblem: Sendable, Equatable {
        case missing, directory, unreadable
    }

    /// Cloud settings are present but none names the bucket.
    case noBucket
    /// The store URL (given explicitly or as `SQBACKUP_STORE`) does not parse as a URL.
    case storeURLNotAURL(String)
    /// A `file:` store URL whose path is not absolute.
    case storeFileURLNotAbsolute
    /// An `r2:` or `s3:` store URL without a bucket name.
    case storeURLWithoutBucket(scheme: String)
    /// A store URL scheme other than `file`, `r2` and `s3`.
    case unsupportedStoreScheme(String)
    /// An explicitly given key pair (`StoreOptions`) lacks one half.
    case incompleteKeyPair(missing: KeyPairHalf)

    /// The CA bundle at `path` (named by `variable`, or given explicitly when nil) cannot be used.
    case caBundleUnusable(path: String, variable: String?, problem: FileProblem)

    public var description: String {
        "invalid store configuration: " + reason
    }

    /// The description without the common prefix.
    public var reason: String {
        switch self {
        case .noBucket:
            return "no bucket: set BACKUP_BUCKET_NAME"
        case .storeURLNotAURL(let text):
            return "store URL \"\(text)\" is not a URL (file:///path, r2://bucket or s3://bucket?endpoint=…)"
        case .storeFileURLNotAbsolute:
            return "a file store URL needs an absolute path: file:///path"
        case .storeURLWithoutBucket(let scheme):
            return "store URL \(scheme)://BUCKET needs a bucket name"
        case .unsupportedStoreScheme(let scheme):
            return "store URL scheme \"\(scheme)\" is not supported (file://, r2://, s3://)"
        case .incompleteKeyPair(.accessKeyId):
            return "a secret access key was given without its access key id"
        case .incompleteKeyPair(.secretAccessKey):
            return "an access key id was given without its secret access key"
        case .caBundleUnusable(let path, let variable, let problem):
            let named = "CA bundle \(path)" + (variable.map { " (from \($0))" } ?? "")
            switch problem {
            case .missing: return "\(named) does not exist; name a PEM file of CA certificates"
            case .directory: return "\(named) is a directory; name a PEM file of CA certificates"
            case .unreadable: return "\(named) cannot be read; check its permissions"
            }
        }
    }
}

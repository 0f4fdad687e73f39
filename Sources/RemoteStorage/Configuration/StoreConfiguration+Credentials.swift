import Storage

extension StoreConfiguration {
    /// One place a key pair may come from.
    private struct KeySource {
        var id: String?
        var secret: String?
        var token: String?
        /// The environment variables it is read from; nil for the explicit options.
        var names: (id: String, secret: String)?

        var isPresent: Bool { id != nil || secret != nil }

        /// The error for a pair that lacks `half`.
        func incomplete(missing half: StoreConfigurationError.KeyPairHalf) -> any Error {
            guard let names else { return StoreConfigurationError.incompleteKeyPair(missing: half) }
            let (given, missing) = half == .accessKeyId ? (names.secret, names.id) : (names.id, names.secret)
            return StorageError.invalidConfiguration(reason: "\(given) is set but \(missing) is not")
        }
    }

    /// The first source that has either half of a key pair must have both; halves are never
    /// mixed across sources.
    static func resolveCredentials(options: StoreOptions, env: [String: String], preferR2: Bool) throws
        -> AWSCredentials
    {
        let explicit = KeySource(id: options.accessKeyId, secret: options.secretAccessKey, token: options.sessionToken)
        let r2Names = (id: "R2_ACCESS_KEY_ID", secret: "R2_SECRET_ACCESS_KEY")
        let awsNames = (id: "AWS_ACCESS_KEY_ID", secret: "AWS_SECRET_ACCESS_KEY")
        let r2 = KeySource(id: env[r2Names.id], secret: env[r2Names.secret], names: r2Names)
        let aws = KeySource(
            id: env[awsNames.id], secret: env[awsNames.secret], token: env["AWS_SESSION_TOKEN"], names: awsNames)
        let (first, second) = preferR2 ? (r2, aws) : (aws, r2)
        guard let source = [explicit, first, second].first(where: \.isPresent) else {
            let (one, other) = preferR2 ? (r2Names, awsNames) : (awsNames, r2Names)
            throw StorageError.invalidConfiguration(
                reason: "no credentials: set \(one.id) and \(one.secret) (or \(other.id) and \(other.secret))")
        }
        guard let id = source.id else { throw source.incomplete(missing: .accessKeyId) }
        guard let secret = source.secret else { throw source.incomplete(missing: .secretAccessKey) }
        return AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: source.token)
    }
}

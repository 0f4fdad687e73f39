import Foundation

extension S3Store {
    /// A URL that lets anyone holding it GET `key` until it expires, with no credentials.
    /// Treat it as a secret: its query is a bearer token.
    public func presignedURL(for key: String, expiresIn seconds: Int = 3600, now: Date = Date()) -> String {
        let path = canonicalPath(key)
        let query = signer.presignedQuery(
            method: "GET", canonicalURI: path, query: [], host: hostHeader, timestamp: SigV4Signer.timestamp(now),
            expires: seconds)
        return baseURL + path + "?" + S3URIEncoding.canonicalQuery(query)
    }
}

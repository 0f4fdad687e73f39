import Foundation

/// The two date formats S3 answers carry: ISO 8601 in XML listings, RFC 7231 in headers.
enum S3Dates {
    /// `2026-01-02T03:04:05.000Z` (fractional seconds optional), as in `LastModified` and `Initiated`.
    static func parseISODate(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) {
            return date
        }
        return try? Date(text, strategy: Date.ISO8601FormatStyle())
    }

    /// `Fri, 02 Jan 2026 03:04:05 GMT`, as in the `Last-Modified` header.
    static func parseHTTPDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}

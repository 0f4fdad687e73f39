import Foundation
import Storage

/// Turns a final non-2xx answer (its HTTP status and S3 error XML) into a `StorageError`, with
/// the server's message stripped of any credential before it reaches a user.
struct S3ErrorMapping: Sendable {
    /// How requests were authorized, which decides what a refusal most likely means.
    enum Access: Sendable {
        /// SigV4 with a key pair: `bucket` names a missing bucket, `secrets` never appear in messages.
        case signed(bucket: String, secrets: [String])
        /// A presigned or public URL: a refusal means the URL expired or was altered.
        case presignedURL
    }

    let access: Access

    func error(for response: HTTPResponse, object: String, range: ByteRange? = nil) -> StorageError {
        let tree = XMLTree.parse(response.body)
        let code = tree?.value("Code") ?? "HTTP \(response.status)"
        let message = sanitize(tree?.value("Message") ?? "")
        let reason = message.isEmpty ? code : "\(code): \(message)"
        switch (response.status, access) {
        case (404, .signed(let bucket, _)) where code == "NoSuchBucket":
            return .notFound(object: "\(bucket) (NoSuchBucket)")
        case (404, _):
            return .notFound(object: object)
        case (401, .presignedURL), (403, .presignedURL):
            return .unauthorized(object: object, reason: "\(code) (an expired or altered presigned URL is refused)")
        case (401, .signed), (403, .signed):
            return .unauthorized(
                object: object,
                reason: tree == nil ? "HTTP \(response.status); check the access key id and secret" : reason)
        case (412, _):
            return .changed(object: object, reason: "\(code): the ETag no longer matches")
        case (416, .signed):
            return .outOfRange(
                object: object, range: range ?? ByteRange(offset: 0, length: 0),
                size: response.unsatisfiedRangeTotal ?? 0)
        case (_, .presignedURL):
            return .io(object: object, reason: "HTTP \(response.status) \(code)")
        case (_, .signed):
            return .io(object: object, reason: "HTTP \(response.status) \(reason)")
        }
    }

    /// Server messages are echoed to users; make sure no credential rides along.
    func sanitize(_ text: String) -> String {
        guard case .signed(_, let secrets) = access else { return text }
        var text = text
        for secret in secrets { text = text.replacingOccurrences(of: secret, with: "<redacted>") }
        return text
    }
}

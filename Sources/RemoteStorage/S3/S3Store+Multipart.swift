import Crypto
import Foundation
import Storage

extension S3Store {
    /// CreateMultipartUpload; returns the upload id.
    public func createMultipartUpload(_ key: String, contentType: String?, metadata: [String: String]) throws -> String
    {
        let headers = Self.objectHeaders(contentType: contentType, metadata: metadata)
        // Not idempotent, but a duplicate only leaves an empty upload that prune removes.
        let response = try send("POST", key: key, query: [("uploads", "")], headers: headers, object: objectName(key))
        guard (200..<300).contains(response.status) else { throw failure(response, object: objectName(key)) }
        guard let uploadId = XMLTree.parse(response.body)?.value("UploadId"), !uploadId.isEmpty else {
            throw StorageError.io(object: objectName(key), reason: "InitiateMultipartUpload answer lacks UploadId")
        }
        return uploadId
    }

    public func uploadPart(_ key: String, uploadId: String, partNumber: Int, bytes: [UInt8]) throws -> String {
        try uploadPart(key, uploadId: uploadId, partNumber: partNumber, bytes: bytes, payloadHash: nil)
    }

    public func uploadPart(_ key: String, uploadId: String, partNumber: Int, bytes: [UInt8], sha256: [UInt8])
        throws -> String
    {
        try uploadPart(key, uploadId: uploadId, partNumber: partNumber, bytes: bytes, payloadHash: sha256.hexString)
    }

    /// The part's SHA-256 goes into the signed `x-amz-content-sha256`: the server refuses a part whose
    /// bytes do not match it (XAmzContentSHA256Mismatch), and a retry sends the bytes again.
    private func uploadPart(_ key: String, uploadId: String, partNumber: Int, bytes: [UInt8], payloadHash: String?)
        throws -> String
    {
        let response = try send(
            "PUT", key: key, query: [("partNumber", String(partNumber)), ("uploadId", uploadId)], body: bytes,
            payloadHash: payloadHash, object: objectName(key))
        guard (200..<300).contains(response.status) else { throw failure(response, object: objectName(key)) }
        guard let etag = response.etag else {
            throw StorageError.io(object: objectName(key), reason: "UploadPart answer lacks ETag")
        }
        return etag
    }

    /// CompleteMultipartUpload. Completing twice is harmless: the second attempt either succeeds
    /// again or answers NoSuchUpload, and then the object's ETag tells whether our parts made it.
    @discardableResult
    public func completeMultipartUpload(_ key: String, uploadId: String, parts: [CompletedPart]) throws -> String {
        let object = objectName(key)
        let body = Array(Self.completionDocument(parts).utf8)
        var attempts = 0
        // S3 may answer 200 and still report an error in the body.
        let classify = { (answer: HTTPResponse) in
            FailureClassifier.decision(for: answer, errorCode: Self.errorCode(in: answer))
        }
        let response = try retryPolicy.run(object: object, logger: logger, classify: classify) { attempt in
            attempts = attempt
            return try client.perform(signedRequest("POST", key: key, query: [("uploadId", uploadId)], body: body))
        }
        let tree = XMLTree.parse(response.body)
        let errorCode = Self.errorCode(in: response)
        if (200..<300).contains(response.status) && errorCode == nil {
            return HTTPResponse.unquote(tree?.value("ETag") ?? "")
        }
        if attempts > 1 && response.status == 404 && tree?.value("Code") == "NoSuchUpload",
            let etag = try? head(key).etag, etag == Self.multipartETag(parts)
        {
            return etag
        }
        if let errorCode {
            throw StorageError.io(
                object: object, reason: "\(errorCode): \(errors.sanitize(tree?.value("Message") ?? ""))")
        }
        throw failure(response, object: object)
    }

    /// AbortMultipartUpload: the parts uploaded so far are dropped.
    public func abortMultipartUpload(_ key: String, uploadId: String) throws {
        let response = try send("DELETE", key: key, query: [("uploadId", uploadId)], object: objectName(key))
        guard (200..<300).contains(response.status) else {
            throw failure(response, object: "\(objectName(key)) (upload \(uploadId))")
        }
    }

    /// ListMultipartUploads, all pages, oldest first.
    public func listMultipartUploads(prefix: String) throws -> [MultipartUpload] {
        var uploads: [MultipartUpload] = []
        var markers: (key: String, uploadId: String)?
        repeat {
            var query: [(name: String, value: String)] = [("uploads", ""), ("prefix", prefix)]
            if let markers { query += [("key-marker", markers.key), ("upload-id-marker", markers.uploadId)] }
            let response = try send("GET", key: nil, query: query, object: displayName)
            guard (200..<300).contains(response.status) else { throw failure(response, object: displayName) }
            guard let tree = XMLTree.parse(response.body), tree.name == "ListMultipartUploadsResult" else {
                throw StorageError.io(object: displayName, reason: "ListMultipartUploads answer is not XML")
            }
            for upload in tree.all("Upload") {
                guard let key = upload.value("Key"), let id = upload.value("UploadId") else { continue }
                uploads.append(
                    MultipartUpload(
                        key: key, uploadId: id, initiated: upload.value("Initiated").flatMap(S3Dates.parseISODate)))
            }
            markers = nil
            if tree.value("IsTruncated") == "true", let key = tree.value("NextKeyMarker"),
                let id = tree.value("NextUploadIdMarker"), !(key.isEmpty && id.isEmpty)
            {
                markers = (key, id)
            }
        } while markers != nil
        return uploads.sorted { ($0.initiated ?? .distantPast) < ($1.initiated ?? .distantPast) }
    }

    /// The code of an `<Error>` document in the body, whatever the status.
    static func errorCode(in response: HTTPResponse) -> String? {
        guard let tree = XMLTree.parse(response.body), tree.name == "Error" else { return nil }
        return tree.value("Code")
    }

    /// The CompleteMultipartUpload request body listing `parts`.
    static func completionDocument(_ parts: [CompletedPart]) -> String {
        var xml = "<CompleteMultipartUpload>"
        for part in parts {
            xml +=
                "<Part><PartNumber>\(part.partNumber)</PartNumber><ETag>\"\(escapeXML(HTTPResponse.unquote(part.etag)))\"</ETag></Part>"
        }
        return xml + "</CompleteMultipartUpload>"
    }

    /// The ETag S3 gives a completed multipart object: MD5 of the parts' binary MD5s, `-N`.
    static func multipartETag(_ parts: [CompletedPart]) -> String? {
        var digests: [UInt8] = []
        for part in parts {
            let hex = Array(HTTPResponse.unquote(part.etag).utf8)
            guard hex.count == 32 else { return nil }
            for index in stride(from: 0, to: 32, by: 2) {
                guard let byte = UInt8(String(decoding: hex[index..<index + 2], as: UTF8.self), radix: 16) else {
                    return nil
                }
                digests.append(byte)
            }
        }
        return Insecure.MD5.hash(data: digests).hexString + "-\(parts.count)"
    }

    static func escapeXML(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

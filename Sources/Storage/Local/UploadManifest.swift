import Foundation

/// What `createMultipartUpload` records next to the staged parts.
struct UploadManifest: Codable {
    var key: String
    var initiated: Date
    var metadata: [String: String]
}

import Foundation
import Synchronization

/// A moto server (Tests/Servers/s3_server.py) with many empty buckets, so that tests which need a
/// bucket of their own (the backup catalog always lives under `backups/`) can run in parallel.
public final class S3BucketPool: Sendable {
    /// Buckets created at start-up; `takeBucket` fails once they are used up.
    public static let capacity = 256

    private static let started: Result<S3BucketPool, ScriptServerError> = {
        do {
            let names = (0..<capacity).flatMap { ["--bucket", "pool-\($0)"] }
            return .success(S3BucketPool(try ScriptServer(script: "s3_server.py", arguments: ["0"] + names)))
        } catch let error as ScriptServerError {
            return .failure(error)
        } catch {
            return .failure(ScriptServerError(message: "\(error)"))
        }
    }()

    /// The shared pool, started on first use; throws (loudly) when Python or moto is missing.
    public static func shared() throws -> S3BucketPool { try started.get() }

    private let server: ScriptServer
    private let next = Mutex(0)

    private init(_ server: ScriptServer) { self.server = server }

    /// A bucket no other test has been given.
    public func takeBucket() throws -> String {
        let index = next.withLock { value in
            defer { value += 1 }
            return value
        }
        guard index < Self.capacity else {
            throw ScriptServerError(message: "S3BucketPool: all \(Self.capacity) buckets are taken")
        }
        return "pool-\(index)"
    }

    public var port: Int { server.port }
    public var endpoint: String { "http://127.0.0.1:\(server.port)" }
    public var accessKeyId: String { server.ready["access_key"] ?? "" }
    public var secretAccessKey: String { server.ready["secret_key"] ?? "" }
    public var region: String { server.ready["region"] ?? "us-east-1" }

    /// The environment that points the sqbackup CLI at `bucket` (the spec's variables).
    public func environment(bucket: String, endpoint: String? = nil) -> [String: String] {
        [
            "BACKUP_BUCKET_NAME": bucket, "BACKUP_BUCKET_ENDPOINT": endpoint ?? self.endpoint,
            "R2_ACCESS_KEY_ID": accessKeyId, "R2_SECRET_ACCESS_KEY": secretAccessKey, "AWS_REGION": region,
            "SQBACKUP_STORE": "", "SQBACKUP_STORE_DIR": "",
        ]
    }
}

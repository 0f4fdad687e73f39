import Foundation

/// moto's S3 server with SigV4 checking on (Tests/Servers/s3_server.py), one per test process.
public final class S3TestServer: Sendable {
    /// The bucket created at start-up.
    public static let bucket = "sqbackup-test"

    private static let started: Result<S3TestServer, ScriptServerError> = {
        do {
            return .success(
                S3TestServer(try ScriptServer(script: "s3_server.py", arguments: ["0", "--bucket", bucket])))
        } catch let error as ScriptServerError {
            return .failure(error)
        } catch {
            return .failure(ScriptServerError(message: "\(error)"))
        }
    }()

    /// The shared server, started on first use; throws (loudly) when Python or moto is missing.
    public static func shared() throws -> S3TestServer { try started.get() }

    private let server: ScriptServer

    private init(_ server: ScriptServer) { self.server = server }

    public var port: Int { server.port }
    public var endpoint: String { "http://127.0.0.1:\(server.port)" }
    public var accessKeyId: String { server.ready["access_key"] ?? "" }
    public var secretAccessKey: String { server.ready["secret_key"] ?? "" }
    public var region: String { server.ready["region"] ?? "us-east-1" }
}

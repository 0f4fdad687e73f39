import Foundation

/// The counting HTTP range server (Tests/Servers/range_server.py) serving a directory on loopback.
public final class RangeServer: Sendable {
    /// One request as the server saw it (control requests are not logged).
    public struct Entry: Decodable, Sendable, Equatable {
        public var method: String
        public var path: String
        public var range: String?
        public var status: Int
        /// Body bytes sent.
        public var bytes: Int
    }

    /// Counters since start or the last `reset()`.
    public struct Stats: Decodable, Sendable {
        public var requests: Int
        public var bytes: Int
        public var log: [Entry]
        /// Requests counted but not logged (the log is capped).
        public var logDropped: Int

        enum CodingKeys: String, CodingKey {
            case requests, bytes, log
            case logDropped = "log_dropped"
        }
    }

    /// The directory served.
    public let directory: String
    private let server: ScriptServer

    /// Serves the files under `directory` at `http://127.0.0.1:<port>/<relative path>`.
    public init(directory: String, port: Int = 0) throws {
        self.directory = directory
        server = try ScriptServer(script: "range_server.py", arguments: [directory, String(port)])
    }

    public var port: Int { server.port }
    public var endpoint: String { "http://127.0.0.1:\(server.port)" }

    /// The URL of `file`, a path relative to the served directory.
    public func url(for file: String) -> String {
        let encoded = file.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? file
        return endpoint + "/" + encoded.drop { $0 == "/" }
    }

    /// Requests and bytes since start or the last `reset()`.
    public func stats() throws -> Stats {
        try JSONDecoder().decode(Stats.self, from: Data(try server.command("stats").utf8))
    }

    /// Zeroes the counters and the log.
    public func reset() throws { _ = try server.command("reset") }

    /// Stops the server now (deinit does it too).
    public func stop() { server.stop() }
}

import Foundation

/// The fault-injecting proxy (Tests/Servers/fault_proxy.py) in front of a loopback server.
public final class FaultProxy: Sendable {
    /// One request as the proxy saw it.
    public struct Entry: Decodable, Sendable {
        public var method: String
        public var path: String
        public var range: String?
        public var fault: String
    }

    private let server: ScriptServer

    /// Starts a proxy to `127.0.0.1:upstreamPort`; `stallSeconds` is how long `stall` waits.
    public init(upstreamPort: Int, stallSeconds: Double = 5) throws {
        server = try ScriptServer(
            script: "fault_proxy.py", arguments: [String(upstreamPort)],
            environment: ["STALL_SECONDS": String(stallSeconds)])
    }

    public var port: Int { server.port }
    public var endpoint: String { "http://127.0.0.1:\(server.port)" }

    /// Queues faults for the next requests, in order (`pass`, `503`, `500`, `reset-before-body`,
    /// `reset-during-body`, `truncate`, `stall`, `stall-before-headers`, `corrupt-request`: one bit of the
    /// request body flipped on its way upstream).
    public func inject(_ faults: [String]) throws {
        _ = try server.command("faults " + faults.joined(separator: " "))
    }

    /// Requests seen since the last `clear()`.
    public func log() throws -> [Entry] {
        try JSONDecoder().decode([Entry].self, from: Data(try server.command("log").utf8))
    }

    /// Forgets queued faults and the log.
    public func clear() throws { _ = try server.command("clear") }
}

import Foundation

/// A TCP proxy adding one-way latency (Tests/Servers/delay_proxy.py), standing in for netem.
public final class DelayProxy: Sendable {
    /// Traffic since start or the last `reset()`.
    public struct Stats: Decodable, Sendable {
        public var connections: Int
        public var bytesUp: Int
        public var bytesDown: Int

        enum CodingKeys: String, CodingKey {
            case connections
            case bytesUp = "bytes_up"
            case bytesDown = "bytes_down"
        }
    }

    /// The added delay each way; a request/response pays twice this.
    public let delayMilliseconds: Double
    private let server: ScriptServer

    /// Proxies to `127.0.0.1:upstreamPort`. With `handshake`, a new connection also pays one
    /// round trip before its first request goes out, as TCP's handshake would.
    public init(upstreamPort: Int, delayMilliseconds: Double = 10, handshake: Bool = true, bufferMiB: Int = 32)
        throws
    {
        self.delayMilliseconds = delayMilliseconds
        server = try ScriptServer(
            script: "delay_proxy.py", arguments: [String(upstreamPort)],
            environment: [
                "DELAY_MS": String(delayMilliseconds), "HANDSHAKE": handshake ? "1" : "0",
                "BUFFER_MIB": String(bufferMiB),
            ])
    }

    public var port: Int { server.port }
    public var endpoint: String { "http://127.0.0.1:\(server.port)" }

    /// `url` (on the upstream server) rewritten to go through the proxy.
    public func proxied(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.host = "127.0.0.1"
        components.port = server.port
        return components.string ?? url
    }

    /// Connections and bytes since start or the last `reset()`.
    public func stats() throws -> Stats {
        try JSONDecoder().decode(Stats.self, from: Data(try server.command("stats").utf8))
    }

    /// Zeroes the counters.
    public func reset() throws { _ = try server.command("reset") }

    /// Stops the proxy now (deinit does it too).
    public func stop() { server.stop() }
}

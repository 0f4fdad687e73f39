import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// nginx terminating TLS on a loopback port, with a certificate of the test CA, in front of a
/// plain-HTTP test server (moto, the range server) or serving a directory itself.
///
/// nginx runs in the foreground as a child of a small shell that stops it when this process
/// exits, so it never outlives the tests. Its config, pid file, logs and
/// temporary paths live in a directory of their own. The access log records, per request, the
/// connection's serial number, the request's number on it, whether the TLS session was resumed
/// (what connection-reuse tests count), and the method and path (what request-cost tests count).
public final class TLSProxy: @unchecked Sendable {
    /// One request as nginx saw it.
    public struct Entry: Sendable, Equatable {
        /// nginx's serial number of the client connection.
        public var connection: Int
        /// The request's number on its connection (1 for the first).
        public var connectionRequests: Int
        /// Whether the connection resumed an earlier TLS session instead of a full handshake.
        public var sessionReused: Bool
        /// `HTTP/1.1` or `HTTP/2.0`.
        public var httpProtocol: String
        public var method: String
        public var status: Int
        /// The request's path without its query (so no presigned signature lands in the log):
        /// `/bucket` for a bucket listing, `/bucket/KEY` for an object.
        public var path: String
    }

    public let port: Int
    public var endpoint: String { "https://127.0.0.1:\(port)" }
    private let directory: String
    private let process: Process

    private static let proxies = Mutex<[Int: Result<TLSProxy, ScriptServerError>]>([:])

    /// The process's proxy in front of `http://127.0.0.1:<upstreamPort>`, started on first use.
    public static func shared(upstreamPort: Int) throws -> TLSProxy {
        try proxies.withLock { proxies in
            if let started = proxies[upstreamPort] { return started }
            let started: Result<TLSProxy, ScriptServerError>
            do {
                started = .success(try TLSProxy(upstreamPort: upstreamPort))
            } catch let error as ScriptServerError {
                started = .failure(error)
            } catch {
                started = .failure(ScriptServerError(message: "\(error)"))
            }
            proxies[upstreamPort] = started
            return started
        }.get()
    }

    /// Proxies every request to `http://127.0.0.1:<upstreamPort>`, keeping the client's Host
    /// header (so SigV4 signatures still verify) and streaming request bodies (multipart parts).
    public convenience init(upstreamPort: Int) throws {
        try self.init(
            location: """
                proxy_pass http://127.0.0.1:\(upstreamPort);
                proxy_set_header Host $http_host;
                proxy_http_version 1.1;
                proxy_set_header Connection "";
                proxy_request_buffering off;
                proxy_buffering off;
                """)
    }

    /// Serves the files under `directory` (nginx answers ranges and `If-Match` itself), offering
    /// HTTP/2 as well, so that a test sees which protocol the client chose.
    public convenience init(serving directory: String) throws {
        try self.init(location: "root \(directory);", offersHTTP2: true)
    }

    private init(location: String, offersHTTP2: Bool = false) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx") else {
            throw ScriptServerError(message: "nginx is missing: the TLS tests need it (apt-get install nginx)")
        }
        let authority = try TestCertificateAuthority.shared()
        let directory = try TemporaryDirectory.removedAtExit("tls-proxy").path
        var attempt = 0
        while true {
            attempt += 1
            let port = try Self.freePort()
            let config = Self.configuration(
                directory: directory, port: port, location: location, offersHTTP2: offersHTTP2,
                authority: authority)
            try Data(config.utf8).write(to: URL(fileURLWithPath: directory + "/nginx.conf"))
            try? FileManager.default.removeItem(atPath: directory + "/error.log")
            let process = try Self.launch(directory: directory)
            if Self.waitUntilListening(port: port, errorLog: directory + "/error.log") {
                self.port = port
                self.directory = directory
                self.process = process
                return
            }
            Self.requestStop(directory: directory)
            _ = process.waitForExit(timeout: 10)
            let log = (try? String(contentsOfFile: directory + "/error.log", encoding: .utf8)) ?? ""
            // Another process may have taken the port between our probe and nginx's bind.
            if attempt < 5 && log.contains("Address already in use") { continue }
            throw ScriptServerError(message: "nginx did not start on port \(port):\n\(log.suffix(2000))")
        }
    }

    deinit { stop() }

    /// Stops nginx now; deinit and the exit of this process do it too.
    public func stop() {
        Self.requestStop(directory: directory)
        _ = process.waitForExit(timeout: 10)
    }

    private static func requestStop(directory: String) {
        _ = FileManager.default.createFile(atPath: directory + "/stop", contents: nil)
    }

    /// Every request logged since start or the last `clearLog()`.
    public func accessLog() throws -> [Entry] {
        let text = try String(contentsOfFile: directory + "/access.log", encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ").map(String.init)
            guard words.count >= 7, let connection = Int(words[0]), let number = Int(words[1]),
                let status = Int(words[5])
            else { return nil }
            return Entry(
                connection: connection, connectionRequests: number, sessionReused: words[2] == "r",
                httpProtocol: words[3], method: words[4], status: status, path: words[6...].joined(separator: " "))
        }
    }

    /// How many TLS handshakes failed since start (nginx logs each at level info): one per
    /// attempt a client made with a certificate it did not trust.
    public func failedHandshakes() -> Int {
        let log = (try? String(contentsOfFile: directory + "/error.log", encoding: .utf8)) ?? ""
        return log.components(separatedBy: "SSL_do_handshake() failed").count - 1
    }

    /// Empties the access log (nginx appends, so truncating is safe while it runs).
    public func clearLog() throws {
        try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/access.log")).truncate(atOffset: 0)
    }

    private static func configuration(
        directory: String, port: Int, location: String, offersHTTP2: Bool, authority: TestCertificateAuthority
    ) -> String {
        """
        daemon off;
        \(getuid() == 0 ? "user root;" : "")
        # A master process, because it sets its own signal mask: nginx alone would inherit the
        # test thread's, where SIGTERM may be blocked.
        master_process on;
        worker_processes 1;
        pid \(directory)/nginx.pid;
        error_log \(directory)/error.log info;
        events { worker_connections 1024; }
        http {
            default_type application/octet-stream;
            log_format counted '$connection $connection_requests $ssl_session_reused $server_protocol $request_method $status $uri';
            access_log \(directory)/access.log counted;
            client_body_temp_path \(directory)/client_body;
            proxy_temp_path \(directory)/proxy;
            fastcgi_temp_path \(directory)/fastcgi;
            uwsgi_temp_path \(directory)/uwsgi;
            scgi_temp_path \(directory)/scgi;
            keepalive_requests 100000;
            keepalive_timeout 300s;
            client_max_body_size 0;
            ssl_certificate \(authority.serverCertificatePath);
            ssl_certificate_key \(authority.serverKeyPath);
            ssl_session_cache shared:sqbackup_test:1m;
            server {
                listen 127.0.0.1:\(port) ssl\(offersHTTP2 ? " http2" : "");
                location / {
                    \(location)
                }
            }
        }

        """
    }

    /// nginx under a shell that stops it once this process is gone or `stop` asked for it. A
    /// watch on the pid, not a pipe: other children inherit pipe ends and would keep it alive.
    private static func launch(directory: String) throws -> Process {
        try? FileManager.default.removeItem(atPath: directory + "/stop")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [
            "-c",
            #"""
            /usr/sbin/nginx -p "$1" -c "$1/nginx.conf" -e "$1/error.log" & pid=$!
            while [ ! -e "$1/stop" ] && kill -0 "$2" 2>/dev/null && kill -0 $pid 2>/dev/null; do sleep 0.2; done
            kill $pid 2>/dev/null; wait $pid
            """#,
            "sh", directory, String(getpid()),
        ]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    private static func waitUntilListening(port: Int, errorLog: String) -> Bool {
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if canConnect(port: port) { return true }
            if let log = try? String(contentsOfFile: errorLog, encoding: .utf8), log.contains("[emerg]") {
                return false
            }
            usleep(20_000)
        }
        return false
    }

    private static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// A loopback port that was free a moment ago (the kernel's pick for port 0).
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ScriptServerError(message: "socket: errno \(errno)") }
        defer { close(fd) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        guard bound,
            withUnsafeMutablePointer(
                to: &address,
                { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 } })
        else { throw ScriptServerError(message: "cannot find a free loopback port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}

import Foundation
import RemoteStorage
import Storage
import TestSupport
import Testing

/// HTTPS against real TLS servers (nginx with a certificate of a CA made by the tests): which CAs
/// are trusted, how a refusal reads, and that connections and TLS sessions are reused.
@Suite("TLS: trust, refusal, connection reuse", .serialized)
struct TLSTests {
    private let authority: TestCertificateAuthority
    private let proxy: TLSProxy

    init() throws {
        authority = try TestCertificateAuthority.shared()
        proxy = try TLSProxy.shared(upstreamPort: try S3TestServer.shared().port)
    }

    @Test("an untrusted certificate is refused at once, naming the server, never retried")
    func untrustedCertificate() throws {
        for trust in [TLSTrust.system, TLSTrust(caBundle: authority.unrelatedCertificatePath)] {
            let store = try S3Store.overTLSForTests(
                trust: trust, retryPolicy: RetryPolicy(maxAttempts: 5, baseDelay: 0.01, maxDelay: 0.01))
            let before = proxy.failedHandshakes()
            do {
                _ = try store.head("anything")
                Issue.record("\(trust): a server with an untrusted certificate was accepted")
            } catch let error as StorageError {
                guard case .untrustedCertificate(let peer, _) = error else {
                    Issue.record("\(trust): expected untrustedCertificate, got \(error)")
                    continue
                }
                #expect(peer == "127.0.0.1:\(proxy.port)")
                #expect(
                    "\(error)".contains("certificate") && "\(error)".contains("127.0.0.1:\(proxy.port)"), "\(error)")
            }
            // One handshake, not one per attempt. nginx logs the failure when it reads the client's
            // alert, which may be after the client gave up: wait for the first line, then a little
            // more for any retry's (retries would have been made before `head` returned).
            let deadline = Date().addingTimeInterval(10)
            while proxy.failedHandshakes() - before < 1 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            Thread.sleep(forTimeInterval: 0.3)
            #expect(proxy.failedHandshakes() - before == 1, "\(trust)")
        }
    }

    @Test("a presigned https URL with an untrusted certificate: the refusal shows no signature")
    func untrustedPresignedURL() throws {
        let trusted = try S3Store.overTLSForTests()
        let key = "tls-\(UUID().uuidString.prefix(8))/object"
        try trusted.put(key, bytes: pattern(5000))
        defer { try? trusted.delete(key) }
        let url = trusted.presignedURL(for: key)
        #expect(url.hasPrefix("https://") && url.contains("X-Amz-Signature="))
        #expect(
            try HTTPRangeSource(url: url, client: HTTPClient.trusting(caBundle: authority.certificatePath)).size == 5000
        )
        do {
            _ = try HTTPRangeSource(url: url, retryPolicy: RetryPolicy(maxAttempts: 3, baseDelay: 0.01, maxDelay: 0.01))
            Issue.record("an untrusted certificate was accepted")
        } catch {
            let text = "\(error) \(String(reflecting: error))"
            #expect(text.contains("certificate") && text.contains("127.0.0.1:\(proxy.port)"), "\(text)")
            #expect(!text.contains("X-Amz-Signature") && !text.contains("X-Amz-Credential"), "\(text)")
        }
    }

    @Test("a CA file that is not PEM fails to load, saying which file")
    func unreadableBundle() throws {
        let work = try TemporaryDirectory("tls-bad-bundle")
        defer { work.remove() }
        let junk = work.child("junk.pem")
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: junk))
        var options = HTTPClientOptions()
        options.caBundle = junk
        do {
            _ = try HTTPClient(options: options).perform(HTTPRequest(method: "GET", url: proxy.endpoint + "/"))
            Issue.record("a junk CA bundle verified a server")
        } catch {
            #expect(error.kind == .tls && error.message.contains(junk), "\(error)")
        }
    }

    @Test("CA bundle precedence: explicit, then AWS_CA_BUNDLE (stores), CURL_CA_BUNDLE, SSL_CERT_FILE")
    func precedence() throws {
        let work = try TemporaryDirectory("tls-precedence")
        defer { work.remove() }
        let files = ["explicit", "aws", "curl", "ssl"].map { work.child($0 + ".pem") }
        for file in files { try Data("x".utf8).write(to: URL(fileURLWithPath: file)) }
        let environment = ["AWS_CA_BUNDLE": files[1], "CURL_CA_BUNDLE": files[2], "SSL_CERT_FILE": files[3]]
        func resolved(_ explicit: String?, _ environment: [String: String], _ variables: [String]) throws -> String? {
            try TLSTrust.resolve(explicit: explicit, environment: environment, variables: variables).caBundle
        }
        let store = TLSTrust.storeVariables
        #expect(try resolved(files[0], environment, store) == files[0])
        #expect(try resolved(nil, environment, store) == files[1])
        #expect(try resolved(nil, environment, TLSTrust.urlVariables) == files[2])
        #expect(
            try resolved(nil, environment.merging(["CURL_CA_BUNDLE": ""]) { $1 }, TLSTrust.urlVariables) == files[3])
        #expect(try resolved(nil, [:], store) == nil)

        let missing = work.child("missing.pem")
        #expect(
            throws: StoreConfigurationError.caBundleUnusable(
                path: missing, variable: "SSL_CERT_FILE", problem: .missing)
        ) { try resolved(nil, ["SSL_CERT_FILE": missing], store) }
        #expect(throws: StoreConfigurationError.caBundleUnusable(path: work.path, variable: nil, problem: .directory)) {
            try resolved(work.path, environment, store)
        }
        let message = StoreConfigurationError.caBundleUnusable(
            path: missing, variable: "AWS_CA_BUNDLE", problem: .missing
        )
        .description
        #expect(message.contains(missing) && message.contains("AWS_CA_BUNDLE") && message.contains("does not exist"))

        // The store resolution carries the choice into the S3 configuration.
        let configuration = try StoreConfiguration.resolve(
            StoreOptions(store: "s3://b?endpoint=https://127.0.0.1:1", accessKeyId: "a", secretAccessKey: "s"),
            environment: environment)
        guard case .s3(let s3) = configuration else {
            Issue.record("expected an S3 store, got \(configuration)")
            return
        }
        #expect(s3.trust == TLSTrust(caBundle: files[1], variable: "AWS_CA_BUNDLE"))
    }

    @Test("many range reads share a few connections, and new connections resume the TLS session")
    func connectionReuse() throws {
        let work = try TemporaryDirectory("tls-reuse")
        defer { work.remove() }
        let bytes = pattern(4 << 20, seed: 9)
        try Data(bytes).write(to: URL(fileURLWithPath: work.child("image.bin")))
        let server = try TLSProxy(serving: work.path)
        defer { server.stop() }
        // A client of its own, so that no warm connection of another test is counted.
        var options = HTTPClientOptions()
        options.caBundle = authority.certificatePath
        let client = HTTPClient(options: options)
        let source = try HTTPRangeSource(url: server.endpoint + "/image.bin", client: client, headLength: 1)

        for index in 0..<40 {
            let range = ByteRange(offset: UInt64(index * 65536 + 17), length: 4096)
            #expect(try source.read(range) == Array(bytes[Int(range.offset)..<Int(range.offset) + 4096]))
        }
        let sequential = try server.accessLog()
        #expect(sequential.count == 41, "the opening read and 40 ranges")
        #expect(Set(sequential.map(\.connection)).count == 1, "\(sequential)")
        #expect(sequential.last?.connectionRequests == 41)

        try server.clearLog()
        let ranges = (0..<64).map { ByteRange(offset: UInt64($0 * 60000), length: 50000) }
        for _ in 0..<4 {
            let pieces = try source.read(ranges: ranges)
            #expect(pieces.enumerated().allSatisfy { $1 == Array(bytes[$0 * 60000..<$0 * 60000 + 50000]) })
        }
        let parallel = try server.accessLog()
        #expect(parallel.count == 256)
        let connections = Dictionary(grouping: parallel, by: \.connection)
        // At most one connection per request in flight (16), however many rounds of requests.
        #expect(connections.count <= 17, "\(connections.count) connections for \(parallel.count) requests")
        // Connections opened while another's session was known resume it: no full handshake.
        let fresh = connections.values.filter { $0.contains { $0.connectionRequests == 1 } }
        let resumed = fresh.filter { $0.first?.sessionReused == true }
        #expect(fresh.count - resumed.count <= 1, "\(resumed.count) of \(fresh.count) new connections resumed")
        // HTTP/1.1 although the server offers HTTP/2 (see `HTTPClientOptions.preferHTTP2`).
        #expect(parallel.allSatisfy { $0.httpProtocol == "HTTP/1.1" && $0.status == 206 })
    }
}

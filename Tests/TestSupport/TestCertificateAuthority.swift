import Foundation

/// A private CA and a server certificate for 127.0.0.1 and localhost, made with `openssl` once per
/// test process in a temporary directory (removed at exit), for the TLS test servers.
public final class TestCertificateAuthority: Sendable {
    /// The CA's certificate (PEM): what a client must trust.
    public let certificatePath: String
    /// The server's certificate (PEM), signed by the CA, with subjectAltName IP:127.0.0.1, DNS:localhost.
    public let serverCertificatePath: String
    /// The server certificate's private key (PEM).
    public let serverKeyPath: String
    /// Another CA's certificate, which did not sign the server's: trusting it must not help.
    public let unrelatedCertificatePath: String
    /// The directory everything lives in.
    public let directory: String

    private static let made: Result<TestCertificateAuthority, ScriptServerError> = {
        do {
            return .success(try TestCertificateAuthority())
        } catch let error as ScriptServerError {
            return .failure(error)
        } catch {
            return .failure(ScriptServerError(message: "cannot make the test CA: \(error)"))
        }
    }()

    /// The process's CA, made on first use; throws (loudly) when openssl is missing.
    public static func shared() throws -> TestCertificateAuthority { try made.get() }

    private init() throws {
        guard Shell.has("openssl") else {
            throw ScriptServerError(message: "openssl is missing: the TLS tests need it (apt-get install openssl)")
        }
        let directory = try TemporaryDirectory.removedAtExit("test-ca").path
        self.directory = directory
        func path(_ name: String) -> String { directory + "/" + name }
        certificatePath = path("ca.pem")
        serverCertificatePath = path("server.pem")
        serverKeyPath = path("server.key")
        unrelatedCertificatePath = path("other-ca.pem")
        // P-256 keys: quick to make, and every TLS stack speaks them.
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for (name, subject) in [("ca", "sqbackup test CA"), ("other-ca", "unrelated test CA")] {
            try Shell.check(
                ["openssl", "req", "-x509"] + key + [
                    "-keyout", path("\(name).key"), "-out", path("\(name).pem"), "-days", "7", "-subj",
                    "/CN=\(subject)",
                    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                ])
        }
        try Shell.check(
            ["openssl", "req"] + key + [
                "-keyout", serverKeyPath, "-out", path("server.csr"), "-subj", "/CN=127.0.0.1",
            ])
        try Data(
            """
            subjectAltName = IP:127.0.0.1, DNS:localhost
            basicConstraints = critical, CA:FALSE
            keyUsage = critical, digitalSignature
            extendedKeyUsage = serverAuth

            """.utf8
        ).write(to: URL(fileURLWithPath: path("server.ext")))
        try Shell.check([
            "openssl", "x509", "-req", "-in", path("server.csr"), "-CA", certificatePath, "-CAkey", path("ca.key"),
            "-CAcreateserial", "-out", serverCertificatePath, "-days", "7", "-extfile", path("server.ext"),
        ])
    }
}

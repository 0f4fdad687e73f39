import Testing

@testable import SQBackup

/// What a credentials file's lines mean, whatever editor wrote them.
@Suite("Credentials file parsing")
struct CredentialsFileParsingTests {
    @Test("CRLF line ends: each line is its own variable, a comment stays a comment")
    func crlfLines() throws {
        let text =
            "# keys for the nightly mount\r\nAWS_ACCESS_KEY_ID=AKIDEXAMPLE\r\n"
            + "AWS_SECRET_ACCESS_KEY=s3cr3t/value=\r\n"
        let settings = try CredentialsFile.parse(text, path: "/etc/sqbackup/r2.env")
        #expect(settings == ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t/value="])
    }

    @Test("a stray line holding a secret with an '=' is refused without echoing any of it")
    func straySecretIsNotEchoed() {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY=="
        do {
            _ = try CredentialsFile.parse("AWS_ACCESS_KEY_ID=AKIDEXAMPLE\n\(secret)\n", path: "/etc/sqbackup/r2.env")
            Issue.record("a line that is no NAME=value was accepted")
        } catch {
            #expect(!"\(error)".contains("wJalr"), "\(error)")
            #expect("\(error)".contains("line 2"), "\(error)")
        }
    }
}

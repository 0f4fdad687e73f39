import Foundation
import RemoteStorage
import Testing

/// The signer against AWS's published Signature Version 4 examples.
@Suite("SigV4 signer")
struct SigV4SignerTests {
    // The S3 examples of "Signature Calculations for the Authorization Header" (S3 API docs).
    let s3 = SigV4Signer(
        credentials: AWSCredentials(
            accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1", service: "s3")
    let timestamp = "20130524T000000Z"
    let host = "examplebucket.s3.amazonaws.com"

    @Test func s3GetObjectWithRange() {
        let headers = [
            ("host", host), ("range", "bytes=0-9"), ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash),
            ("x-amz-date", timestamp),
        ]
        let canonical = s3.canonicalRequest(
            method: "GET", canonicalURI: "/test.txt", query: [], headers: headers,
            payloadHash: SigV4Signer.emptyPayloadHash)
        #expect(
            canonical == """
                GET
                /test.txt

                host:examplebucket.s3.amazonaws.com
                range:bytes=0-9
                x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                x-amz-date:20130524T000000Z

                host;range;x-amz-content-sha256;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """)
        let toSign = s3.stringToSign(canonicalRequest: canonical, timestamp: timestamp)
        #expect(
            toSign == """
                AWS4-HMAC-SHA256
                20130524T000000Z
                20130524/us-east-1/s3/aws4_request
                7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
                """)
        #expect(
            s3.signature(stringToSign: toSign, timestamp: timestamp)
                == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(
            s3.authorization(
                method: "GET", canonicalURI: "/test.txt", query: [], headers: headers,
                payloadHash: SigV4Signer.emptyPayloadHash, timestamp: timestamp)
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func s3PutObject() {
        let body = Array("Welcome to Amazon S3.".utf8)
        let payload = SigV4Signer.sha256Hex(body)
        #expect(payload == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let headers = [
            ("Host", host), ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-date", timestamp),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"), ("x-amz-content-sha256", payload),
        ]
        let path = "/" + S3URIEncoding.encodeKey("test$file.text")
        #expect(path == "/test%24file.text")
        let authorization = s3.authorization(
            method: "PUT", canonicalURI: path, query: [], headers: headers, payloadHash: payload, timestamp: timestamp)
        #expect(authorization.contains("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"))
        #expect(authorization.hasSuffix("Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"))
    }

    @Test func s3GetBucketLifecycle() {
        let headers = [
            ("host", host), ("x-amz-date", timestamp), ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash),
        ]
        let authorization = s3.authorization(
            method: "GET", canonicalURI: "/", query: [("lifecycle", "")], headers: headers,
            payloadHash: SigV4Signer.emptyPayloadHash, timestamp: timestamp)
        #expect(authorization.hasSuffix("Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"))
    }

    @Test func s3ListObjects() {
        let headers = [
            ("host", host), ("x-amz-date", timestamp), ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash),
        ]
        // Given out of order on purpose: the canonical query is sorted.
        let authorization = s3.authorization(
            method: "GET", canonicalURI: "/", query: [("prefix", "J"), ("max-keys", "2")], headers: headers,
            payloadHash: SigV4Signer.emptyPayloadHash, timestamp: timestamp)
        #expect(authorization.hasSuffix("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"))
    }

    @Test func s3PresignedURL() {
        let query = s3.presignedQuery(
            method: "GET", canonicalURI: "/test.txt", query: [], host: host, timestamp: timestamp, expires: 86400)
        #expect(
            S3URIEncoding.canonicalQuery(query)
                == "X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
                + "&X-Amz-SignedHeaders=host")
    }

    // aws-sig-v4-test-suite cases (region us-east-1, service "service", 20150830T123600Z).
    let suite = SigV4Signer(
        credentials: AWSCredentials(
            accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1", service: "service")

    @Test func testSuiteGetVanilla() {
        let authorization = suite.authorization(
            method: "GET", canonicalURI: "/", query: [],
            headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
            payloadHash: SigV4Signer.emptyPayloadHash, timestamp: "20150830T123600Z")
        #expect(
            authorization
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                + "SignedHeaders=host;x-amz-date, "
                + "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    @Test func testSuiteGetVanillaQueryOrderKeyCase() {
        let authorization = suite.authorization(
            method: "GET", canonicalURI: "/", query: [("Param2", "value2"), ("Param1", "value1")],
            headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
            payloadHash: SigV4Signer.emptyPayloadHash, timestamp: "20150830T123600Z")
        #expect(authorization.hasSuffix("Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"))
    }

    @Test func testSuiteGetVanillaEmptyQueryKey() {
        let authorization = suite.authorization(
            method: "GET", canonicalURI: "/", query: [("Param1", "value1")],
            headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
            payloadHash: SigV4Signer.emptyPayloadHash, timestamp: "20150830T123600Z")
        #expect(authorization.hasSuffix("Signature=a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"))
    }

    @Test func testSuitePostVanilla() {
        let authorization = suite.authorization(
            method: "POST", canonicalURI: "/", query: [],
            headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
            payloadHash: SigV4Signer.emptyPayloadHash, timestamp: "20150830T123600Z")
        #expect(authorization.hasSuffix("Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"))
    }

    @Test func testSuitePostXWWWFormURLEncoded() {
        let authorization = suite.authorization(
            method: "POST", canonicalURI: "/", query: [],
            headers: [
                ("Content-Type", "application/x-www-form-urlencoded"), ("Host", "example.amazonaws.com"),
                ("X-Amz-Date", "20150830T123600Z"),
            ],
            payloadHash: SigV4Signer.sha256Hex(Array("Param1=value1".utf8)), timestamp: "20150830T123600Z")
        #expect(authorization.contains("SignedHeaders=content-type;host;x-amz-date,"))
        #expect(authorization.hasSuffix("Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"))
    }

    @Test func headerValuesAreTrimmedAndCollapsed() {
        let canonical = suite.canonicalRequest(
            method: "GET", canonicalURI: "/", query: [],
            headers: [("My-Header1", "  a   b   c  "), ("host", "h"), ("my-header1", "d")], payloadHash: "x")
        #expect(canonical.contains("host:h\nmy-header1:a b c,d\n"))
    }

    @Test func timestampIsUTC() {
        #expect(SigV4Signer.timestamp(Date(timeIntervalSince1970: 1_369_353_600)) == "20130524T000000Z")
        #expect(SigV4Signer.timestamp(Date(timeIntervalSince1970: 1_440_938_160)) == "20150830T123600Z")
    }

    @Test func uriEncodingFollowsS3Rules() {
        #expect(S3URIEncoding.encodeKey("a b/c+d=é~_-.") == "a%20b/c%2Bd%3D%C3%A9~_-.")
        #expect(S3URIEncoding.encode("backups/") == "backups%2F")
        #expect(S3URIEncoding.canonicalQuery([("b", "2"), ("a", "x y"), ("uploads", "")]) == "a=x%20y&b=2&uploads=")
    }

    @Test func credentialsNeverDescribeTheSecret() {
        let credentials = AWSCredentials(
            accessKeyId: "AKID", secretAccessKey: "very-secret", sessionToken: "tok-secret")
        for text in ["\(credentials)", String(reflecting: credentials), String(describing: credentials)] {
            #expect(!text.contains("very-secret"))
            #expect(!text.contains("tok-secret"))
        }
        var dumped = ""
        dump(credentials, to: &dumped)
        #expect(!dumped.contains("very-secret"))
    }
}

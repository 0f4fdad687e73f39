import Foundation
import RemoteStorage
import Storage
import TestSupport
import Testing

/// Which store the flags, `--store` URL and environment select, and the errors when pieces are missing.
@Suite("Store configuration")
struct StoreConfigurationTests {
    let secret = "s3cr3t-value-never-shown"

    func remote(_ configuration: StoreConfiguration) -> S3Configuration? {
        if case .s3(let s3) = configuration { return s3 }
        return nil
    }

    func reason(_ body: () throws -> StoreConfiguration) -> String? {
        do {
            _ = try body()
            return nil
        } catch StorageError.invalidConfiguration(let reason) {
            return reason
        } catch let error as StoreConfigurationError {
            return error.reason
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func noCloudSettingsMeansLocalStore() throws {
        #expect(
            try StoreConfiguration.resolve(environment: ["HOME": "/home/u"])
                == .local(directory: "/home/u/.local/share/sqbackup"))
        #expect(
            try StoreConfiguration.resolve(environment: ["HOME": "/home/u", "XDG_DATA_HOME": "/data"])
                == .local(directory: "/data/sqbackup"))
        #expect(
            try StoreConfiguration.resolve(environment: ["HOME": "/home/u", "SQBACKUP_STORE_DIR": "/srv/b"])
                == .local(directory: "/srv/b"))
        #expect(
            try StoreConfiguration.resolve(StoreOptions(directory: "/x"), environment: ["SQBACKUP_STORE_DIR": "/srv/b"])
                == .local(directory: "/x"))
        // AWS credentials alone (set for other tools) do not select a bucket.
        #expect(
            try StoreConfiguration.resolve(environment: [
                "HOME": "/h", "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "B",
            ])
                == .local(directory: "/h/.local/share/sqbackup"))
    }

    @Test func specVariablesSelectR2() throws {
        let configuration = try StoreConfiguration.resolve(environment: [
            "R2_ACCESS_KEY_ID": "key", "R2_SECRET_ACCESS_KEY": secret, "CLOUDFLARE_ACCOUNT_ID": "ABC123",
            "BACKUP_BUCKET_NAME": "backups", "AWS_ACCESS_KEY_ID": "aws", "AWS_SECRET_ACCESS_KEY": "aws-secret",
        ])
        let s3 = try #require(remote(configuration))
        #expect(s3.endpoint == "https://abc123.r2.cloudflarestorage.com")
        #expect(s3.bucket == "backups")
        #expect(s3.region == "auto")
        #expect(s3.credentials == AWSCredentials(accessKeyId: "key", secretAccessKey: secret))
        #expect(!"\(configuration)".contains(secret))
    }

    @Test func endpointOverrideAndAWSFallback() throws {
        let configuration = try StoreConfiguration.resolve(environment: [
            "BACKUP_BUCKET_NAME": "b", "BACKUP_BUCKET_ENDPOINT": "https://acct.eu.r2.cloudflarestorage.com",
            "AWS_ACCESS_KEY_ID": "aws", "AWS_SECRET_ACCESS_KEY": "aws-secret", "AWS_SESSION_TOKEN": "tok",
        ])
        let s3 = try #require(remote(configuration))
        #expect(s3.endpoint == "https://acct.eu.r2.cloudflarestorage.com")
        #expect(s3.region == "auto")
        #expect(
            s3.credentials == AWSCredentials(accessKeyId: "aws", secretAccessKey: "aws-secret", sessionToken: "tok"))

        let minio = try #require(
            remote(
                try StoreConfiguration.resolve(environment: [
                    "BACKUP_BUCKET_NAME": "b", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000",
                    "AWS_REGION": "eu-west-1",
                    "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s",
                ])))
        #expect(minio.endpoint == "http://127.0.0.1:9000")
        #expect(minio.region == "eu-west-1")
    }

    @Test func flagsComeFirst() throws {
        let options = StoreOptions(
            bucket: "flag-bucket", endpoint: "http://127.0.0.1:1234", region: "flag-region", accessKeyId: "fk",
            secretAccessKey: "fs")
        let s3 = try #require(
            remote(
                try StoreConfiguration.resolve(
                    options,
                    environment: [
                        "BACKUP_BUCKET_NAME": "env", "R2_ACCESS_KEY_ID": "rk", "R2_SECRET_ACCESS_KEY": "rs",
                        "CLOUDFLARE_ACCOUNT_ID": "acct",
                    ])))
        #expect(s3.bucket == "flag-bucket")
        #expect(s3.endpoint == "http://127.0.0.1:1234")
        #expect(s3.region == "flag-region")
        #expect(s3.credentials.accessKeyId == "fk")
    }

    @Test func storeURLForms() throws {
        let env = [
            "HOME": "/h", "R2_ACCESS_KEY_ID": "rk", "R2_SECRET_ACCESS_KEY": "rs", "CLOUDFLARE_ACCOUNT_ID": "acct",
        ]
        #expect(
            try StoreConfiguration.resolve(StoreOptions(store: "file:///srv/backups"), environment: env)
                == .local(directory: "/srv/backups"))

        let r2 = try #require(
            remote(try StoreConfiguration.resolve(StoreOptions(store: "r2://my-bucket"), environment: env)))
        #expect(r2.bucket == "my-bucket")
        #expect(r2.endpoint == "https://acct.r2.cloudflarestorage.com")
        #expect(r2.region == "auto")

        let other = try #require(
            remote(
                try StoreConfiguration.resolve(
                    StoreOptions(store: "s3://data?endpoint=http://127.0.0.1:9000&region=local"),
                    environment: env.merging(["AWS_ACCESS_KEY_ID": "ak", "AWS_SECRET_ACCESS_KEY": "as"]) { $1 })))
        #expect(other.bucket == "data")
        #expect(other.endpoint == "http://127.0.0.1:9000")
        #expect(other.region == "local")
        #expect(other.credentials.accessKeyId == "ak")  // s3:// prefers the AWS variables

        let aws = try #require(
            remote(
                try StoreConfiguration.resolve(
                    StoreOptions(store: "s3://data"),
                    environment: [
                        "AWS_ACCESS_KEY_ID": "ak", "AWS_SECRET_ACCESS_KEY": "as", "AWS_REGION": "eu-central-1",
                    ])))
        #expect(aws.endpoint == "https://s3.eu-central-1.amazonaws.com")
    }

    @Test func missingPiecesNameTheVariable() {
        let noSecret = reason {
            try StoreConfiguration.resolve(environment: [
                "BACKUP_BUCKET_NAME": "b", "CLOUDFLARE_ACCOUNT_ID": "a", "R2_ACCESS_KEY_ID": "k",
            ])
        }
        #expect(noSecret?.contains("R2_SECRET_ACCESS_KEY") == true)

        let noKeyId = reason {
            try StoreConfiguration.resolve(environment: [
                "BACKUP_BUCKET_NAME": "b", "CLOUDFLARE_ACCOUNT_ID": "a", "R2_SECRET_ACCESS_KEY": secret,
            ])
        }
        #expect(noKeyId?.contains("R2_ACCESS_KEY_ID") == true)
        #expect(noKeyId?.contains(secret) == false)

        let noBucket = reason {
            try StoreConfiguration.resolve(environment: [
                "CLOUDFLARE_ACCOUNT_ID": "a", "R2_ACCESS_KEY_ID": "k", "R2_SECRET_ACCESS_KEY": secret,
            ])
        }
        #expect(noBucket?.contains("BACKUP_BUCKET_NAME") == true)

        let noEndpoint = reason {
            try StoreConfiguration.resolve(environment: [
                "BACKUP_BUCKET_NAME": "b", "R2_ACCESS_KEY_ID": "k", "R2_SECRET_ACCESS_KEY": secret,
            ])
        }
        #expect(noEndpoint?.contains("CLOUDFLARE_ACCOUNT_ID") == true)

        let noCredentials = reason {
            try StoreConfiguration.resolve(environment: ["BACKUP_BUCKET_NAME": "b", "CLOUDFLARE_ACCOUNT_ID": "a"])
        }
        #expect(noCredentials?.contains("R2_ACCESS_KEY_ID") == true)

        #expect(reason { try StoreConfiguration.resolve(StoreOptions(store: "ftp://x"), environment: [:]) } != nil)
        #expect(
            reason {
                try StoreConfiguration.resolve(StoreOptions(store: "r2://b"), environment: ["R2_ACCESS_KEY_ID": "k"])
            } != nil)
        #expect(reason { try StoreConfiguration.resolve(environment: [:]) }?.contains("SQBACKUP_STORE_DIR") == true)
        #expect(
            reason {
                try StoreConfiguration.resolve(environment: [
                    "BACKUP_BUCKET_NAME": "b", "CLOUDFLARE_ACCOUNT_ID": "evil.example/x", "R2_ACCESS_KEY_ID": "k",
                    "R2_SECRET_ACCESS_KEY": "s",
                ])
            }?.contains("CLOUDFLARE_ACCOUNT_ID") == true)
    }

    /// The errors of a selection carry a typed case, so the command line can name its own flag;
    /// their messages name the missing thing, never a flag.
    @Test func selectionMistakesAreTypedAndNameNoFlag() {
        func mistake(_ options: StoreOptions, _ environment: [String: String] = [:]) -> StoreConfigurationError? {
            do {
                _ = try StoreConfiguration.resolve(options, environment: environment)
                return nil
            } catch {
                return error as? StoreConfigurationError
            }
        }
        let account = ["CLOUDFLARE_ACCOUNT_ID": "a"]
        let cases: [(StoreConfigurationError?, StoreConfigurationError)] = [
            (mistake(StoreOptions(), account.merging(["R2_ACCESS_KEY_ID": "k"]) { $1 }), .noBucket),
            (mistake(StoreOptions(store: "not a url")), .storeURLNotAURL("not a url")),
            (mistake(StoreOptions(store: "file://host/x")), .storeFileURLNotAbsolute),
            (mistake(StoreOptions(store: "r2://")), .storeURLWithoutBucket(scheme: "r2")),
            (mistake(StoreOptions(store: "ftp://x")), .unsupportedStoreScheme("ftp")),
            (
                mistake(StoreOptions(bucket: "b", accessKeyId: "k"), account),
                .incompleteKeyPair(missing: .secretAccessKey)
            ),
            (
                mistake(StoreOptions(bucket: "b", secretAccessKey: secret), account),
                .incompleteKeyPair(missing: .accessKeyId)
            ),
        ]
        for (found, expected) in cases {
            #expect(found == expected)
            #expect(!expected.description.contains("--"), "\(expected)")
            #expect(!expected.description.contains(secret))
        }
    }

    @Test func makesTheConfiguredStore() throws {
        let work = try TemporaryDirectory("cfg")
        defer { work.remove() }
        let local = try StoreConfiguration.local(directory: work.child("store")).makeStore()
        #expect(local is LocalDirectoryStore)
        let remote = try StoreConfiguration.s3(
            S3Configuration(
                endpoint: "https://acct.r2.cloudflarestorage.com", bucket: "b", region: "auto",
                credentials: AWSCredentials(accessKeyId: "k", secretAccessKey: secret))
        ).makeStore()
        #expect(remote.displayName == "s3://b")
        #expect(throws: StorageError.self) {
            try StoreConfiguration.s3(
                S3Configuration(
                    endpoint: "ftp://x", bucket: "b", region: "auto",
                    credentials: AWSCredentials(accessKeyId: "k", secretAccessKey: "s"))
            ).makeStore()
        }
    }
}

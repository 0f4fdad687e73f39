import ArgumentParser
import Foundation
import SQBackup

/// The store-selection flags every command that touches backups takes.
struct StoreFlags: ParsableArguments {
    @Option(
        name: .long,
        help: "The store: file:///path, r2://BUCKET or s3://BUCKET?endpoint=URL (default: from the environment).")
    var store: String?

    @Option(name: .long, help: "Bucket name (overrides BACKUP_BUCKET_NAME).")
    var bucket: String?

    @Option(name: .long, help: "S3 endpoint URL (overrides BACKUP_BUCKET_ENDPOINT).")
    var endpoint: String?

    @Option(name: .long, help: "Signing region (default: auto for R2, else AWS_REGION or us-east-1).")
    var region: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A PEM file of CA certificates that verify the store's or URL's TLS certificate "
                + "(default: AWS_CA_BUNDLE for S3/R2, then CURL_CA_BUNDLE, SSL_CERT_FILE, else the system's CAs).",
            valueName: "file"))
    var caBundle: String?

    /// The flags' choices, a relative --ca-bundle made absolute as the facade makes it.
    var selection: StoreSelection {
        StoreSelection(store: store, bucket: bucket, endpoint: endpoint, region: region, caBundle: caBundle)
            .absolute()
    }

    /// The facade's client of the store the flags and the environment select.
    func client() -> BackupClient { BackupClient(store: selection) }

    /// The flags again, for a child process (the mount daemon) that must choose the same store.
    var arguments: [String] {
        var arguments: [String] = []
        if let store { arguments += ["--store", store] }
        if let bucket { arguments += ["--bucket", bucket] }
        if let endpoint { arguments += ["--endpoint", endpoint] }
        if let region { arguments += ["--region", region] }
        if let caBundle = selection.caBundle { arguments += ["--ca-bundle", caBundle] }
        return arguments
    }

    /// Makes relative CA bundle paths in the environment absolute, for a daemon that leaves the
    /// working directory (it inherits the environment and runs in `/`).
    static func absolutizeCABundleVariables() {
        let environment = ProcessInfo.processInfo.environment
        for (name, value) in StoreSelection.absolutizingCABundles(in: environment) where environment[name] != value {
            setenv(name, value, 1)
        }
    }
}

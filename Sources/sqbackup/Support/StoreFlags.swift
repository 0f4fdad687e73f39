import ArgumentParser
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

    var selection: StoreSelection {
        StoreSelection(store: store, bucket: bucket, endpoint: endpoint, region: region)
    }

    /// The flags again, for a child process (the mount daemon) that must choose the same store.
    var arguments: [String] {
        var arguments: [String] = []
        if let store { arguments += ["--store", store] }
        if let bucket { arguments += ["--bucket", bucket] }
        if let endpoint { arguments += ["--endpoint", endpoint] }
        if let region { arguments += ["--region", region] }
        return arguments
    }

    func catalog() throws -> BackupCatalog { try BackupCatalog.open(selection) }
}

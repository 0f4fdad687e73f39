import SQBackup

/// The command line's words for the facade's failures and warnings: the facade says what
/// happened, this adds which flag gets the user out of it.
enum FlagHints {
    /// "CODE: message", with the flag that helps where the error's reason has one.
    static func report(_ error: BackupError) -> String {
        "\(error.code.rawValue): \(message(error))"
    }

    static func message(_ error: BackupError) -> String {
        switch error.reason {
        case .targetNotEmpty(let path, let covering)?:
            let verb = covering ? "cover it with the snapshot" : "restore over it"
            return "\(path): target directory exists and is not empty (use --force to \(verb))"
        case .busy(let path)?:
            return "\(path) is busy (files are open there); close them or use --lazy to detach now"
        case .directoryBusy?:
            return error.message + " (or use --wait to wait for it)"
        case .lazyRestoreNeedsRoot?:
            return "--lazy needs root (it mounts kernel overlayfs); without root, mount the backup read-only "
                + "with `sqbackup mount` or restore real files"
        case .notAGitWorkTree(let directory)?:
            return "--gitignore: \(directory) is not inside a git work tree (drop --gitignore)"
        case .gitIgnoreUnavailable?:
            return "--gitignore: \(error.message)"
        case .bucketNotFound?:
            return error.message + " (or --bucket, --store)"
        case .prefetchNeedsDiskCache?:
            return "--prefetch all needs the disk cache; remove --no-disk-cache"
        case .mountpointNotEmpty(let path)?:
            return "mountpoint \(path) is not empty; choose an empty directory or pass -o nonempty to hide its contents"
        case .untrustedCertificate?:
            return error.message + ": set --ca-bundle FILE (or AWS_CA_BUNDLE, CURL_CA_BUNDLE, SSL_CERT_FILE) "
                + "to the CA certificates that signed it"
        case .cleanupIncomplete?:
            return error.message + " (`sqbackup prune` removes it once it is older than --uploads-older-than)"
        case nil:
            return error.message
        }
    }

    /// A build warning as one line.
    static func line(_ warning: CreateWarning) -> String { "\(warning.path): \(warning.message)" }

    /// A restore warning as one line.
    static func line(_ warning: RestoreWarning) -> String { warning.description }
}

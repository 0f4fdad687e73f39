import Foundation
import Restore
import SquashReader
import Storage

#if canImport(Glibc)
    import Glibc
#endif

/// The spec's `restoreBackup`: resolves what to restore, enforces the target rules, streams the
/// image into the directory.
public enum BackupRestore {
    /// Restores a backup id, a local image path or an http(s) URL. Ids default to the backup's
    /// original directory; files and URLs have none, so they need `targetDir`.
    public static func restore(
        _ reference: ImageReference, store: StoreSelection, options: RestoreBackupOptions = RestoreBackupOptions(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> RestoreResult {
        if case .backup(let id) = reference {
            return try BackupCatalog.open(store, environment: environment).restoreBackup(id: id, options: options)
        }
        guard let target = options.targetDir else {
            throw BackupError(.invalidConfig, "\(reference) has no original directory: give a target directory")
        }
        let source = try ImageLocator.open(reference, store: store, environment: environment)
        return try restore(source: source, into: target, explicitTarget: true, options: options)
    }

    /// Opens the image in `source` and restores it into `target`. An explicit target must be
    /// missing or empty unless `force`; the original directory is always rolled back in place.
    /// The target's lock is held throughout (BACKUP_BUSY while another restore or create of it runs).
    static func restore(
        source: any RangeSource, into target: String, explicitTarget: Bool, options: RestoreBackupOptions
    )
        throws -> RestoreResult
    {
        let stateRoot = options.stateRoot ?? LazyRoot.stateRoot(environment: ProcessInfo.processInfo.environment)
        let lock = try DirectoryLock.acquire(
            directory: target, operation: "restore", stateRoot: stateRoot, wait: options.wait,
            cancellation: options.cancellation)
        defer { lock.release() }
        if explicitTarget && !options.force && !isMissingOrEmpty(target) {
            throw BackupError(
                .restoreFailed, "\(target): target directory exists and is not empty",
                reason: .targetNotEmpty(path: target, covering: false))
        }
        do {
            let image = try SquashImage.open(source, options: options.reader)
            return try Restorer(image: image, options: options.restore, logger: options.logger).restore(into: target)
        } catch RestoreError.interrupted(let why) {
            throw BackupError(.interrupted, why)
        } catch let error as ImageError {
            if case .storage = error { throw BackupError.wrapping(error, as: .restoreFailed) }
            throw BackupError(.restoreFailed, error.description)
        } catch {
            throw BackupError.wrapping(error, as: .restoreFailed)
        }
    }

    private static func isMissingOrEmpty(_ path: String) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0 else { return errno == ENOENT }
        guard info.st_mode & S_IFMT == S_IFDIR else { return false }
        return (try? FileManager.default.contentsOfDirectory(atPath: path).isEmpty) ?? false
    }
}

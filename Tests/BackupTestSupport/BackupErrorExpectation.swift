import SQBackup
import Testing

/// Expects `body` to throw a `BackupError` with `code`; returns it.
@discardableResult
public func expectBackupError(_ code: BackupError.Code, _ body: () throws -> Void) -> BackupError? {
    do {
        try body()
    } catch let error as BackupError {
        if error.code != code { Issue.record("expected \(code.rawValue), got \(error)") }
        return error
    } catch {
        Issue.record("expected a BackupError \(code.rawValue), got \(error)")
        return nil
    }
    Issue.record("expected \(code.rawValue), but nothing was thrown")
    return nil
}

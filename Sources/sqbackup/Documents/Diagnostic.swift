/// An error or warning as `--json` prints it on stderr, one line each:
/// `{"error":{"code":"BACKUP_NOT_FOUND","message":"…","exitStatus":4}}` or `{"warning":{"message":"…"}}`.
struct Diagnostic: Encodable {
    /// The body of either kind.
    struct Detail: Encodable {
        var code: String?
        var message: String
        var exitStatus: Int32?
    }

    var error: Detail?
    var warning: Detail?
}

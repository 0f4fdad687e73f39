/// A background process `DaemonLauncher` started and that reported ready.
struct LaunchedDaemon: Sendable {
    let pid: Int32
    /// What it had to tell the user (one line each), already printed as warnings.
    let notices: [String]
}

/// Why a mount could not be set up. Messages name the mountpoint and what to do.
public enum MountError: Error, Equatable, Sendable, CustomStringConvertible {
    case mountpointMissing(String)
    case notADirectory(String)
    case mountpointBusy(String)
    case mountpointNotEmpty(String)
    case fuseUnavailable(String)
    case invalidOptions(String)
    case mountFailed(String)

    public var description: String {
        switch self {
        case .mountpointMissing(let path): return "mountpoint \(path) does not exist; create it with mkdir first"
        case .notADirectory(let path): return "mountpoint \(path) is not a directory"
        case .mountpointBusy(let path):
            return "mountpoint \(path) is busy: something is already mounted there (unmount it first)"
        case .mountpointNotEmpty(let path):
            return "mountpoint \(path) is not empty; choose an empty directory or allow a non-empty one to hide "
                + "its contents"
        case .fuseUnavailable(let reason): return "FUSE is not available: \(reason)"
        case .invalidOptions(let reason): return "invalid mount options: \(reason)"
        case .mountFailed(let reason): return "mount failed: \(reason)"
        }
    }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The unix sockets through which mount daemons answer `sqbackup status`: one per daemon,
/// named by pid, in a runtime directory only the user can enter.
public enum StatusChannel {
    /// `/run/sqbackup` for root, else `$XDG_RUNTIME_DIR/sqbackup`, else `/tmp/sqbackup-<uid>`.
    public static func directory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let override = environment["SQBACKUP_RUNTIME_DIR"], !override.isEmpty { return override }
        if getuid() == 0 { return "/run/sqbackup" }
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty { return runtime + "/sqbackup" }
        return "/tmp/sqbackup-\(getuid())"
    }

    static func socketPath(pid: Int32, directory: String) -> String { "\(directory)/\(pid).sock" }

    static func address(_ path: String) -> sockaddr_un? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    /// Every running daemon's status; sockets of daemons that are gone are removed.
    public static func query(directory: String = directory()) -> [MountStatus] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var statuses = [MountStatus]()
        for name in names.sorted() where name.hasSuffix(".sock") {
            let path = directory + "/" + name
            if let status = ask(path) {
                statuses.append(status)
            } else if let pid = Int32(name.dropLast(5)), kill(pid, 0) != 0, errno == ESRCH {
                unlink(path)
            }
        }
        return statuses
    }

    static func ask(_ path: String) -> MountStatus? {
        guard var address = address(path) else { return nil }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else { return nil }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(MountStatus.self, from: data)
    }
}

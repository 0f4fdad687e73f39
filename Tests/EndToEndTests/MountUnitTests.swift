import Foundation
import TestSupport
import Testing

/// The commands of `sqbackup-mount@.service` as `make install` writes it, with `%i` and the
/// variables systemd would substitute (there is no running systemd to start the unit).
private struct MountUnit {
    let text: String

    init(installedIn prefix: String) throws {
        text = try String(contentsOfFile: prefix + "/lib/systemd/system/sqbackup-mount@.service", encoding: .utf8)
    }

    /// The words of `key=` (continuation lines joined) for instance `instance`, with `variables`
    /// and the system directories put where `paths` says.
    func command(_ key: String, instance: String, variables: [String: String], paths: [String: String]) -> [String] {
        let joined = text.replacingOccurrences(of: "\\\n", with: " ")
        guard let line = joined.split(separator: "\n").first(where: { $0.hasPrefix(key + "=") }) else { return [] }
        var command = String(line.dropFirst(key.count + 1)).replacingOccurrences(of: "%i", with: instance)
        for (name, value) in variables { command = command.replacingOccurrences(of: "${\(name)}", with: value) }
        for (path, replacement) in paths { command = command.replacingOccurrences(of: path, with: replacement) }
        return command.split(separator: " ").map(String.init)
    }
}

@Suite("sqbackup-mount@.service: one backup or the whole store (instance all)", .serialized)
struct MountUnitTests {
    @Test("instance all passes systemd-analyze verify, and its ExecStart and ExecStop mount and unmount every backup")
    func wholeStoreInstance() throws {
        guard try requireFuse() else { return }
        let work = try TemporaryDirectory(InstalledSqbackup.testPrefixLabel)
        defer { work.remove() }
        let prefix = work.child("prefix")
        try InstalledSqbackup.install(prefix: prefix)
        let template = prefix + "/lib/systemd/system/sqbackup-mount@.service"
        if Shell.has("systemd-analyze") {
            // verify finds the template beside the instance's name.
            let units = work.child("units")
            try FileManager.default.createDirectory(atPath: units, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: template, toPath: units + "/sqbackup-mount@.service")
            let verified = try Shell.run(
                ["systemd-analyze", "verify", units + "/sqbackup-mount@all.service"],
                environment: ["MANPATH": "\(prefix)/share/man:"])
            #expect(verified.succeeded && verified.stderr.isEmpty, "\(verified.stderr)")
        } else {
            Issue.record("systemd-analyze is missing: scripts/install-deps.sh --test installs systemd")
        }

        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try Data("in the store\n".utf8).write(to: URL(fileURLWithPath: source + "/file.txt"))
        let store = "file://" + work.child("store")
        let ids = try (0..<2).map { _ in
            try SQBackupBinary.run(["create", source, "--quiet", "--store", store]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let unit = try MountUnit(installedIn: prefix)
        let mountpoint = work.child("run/sqbackup/all")
        let variables = ["SQBACKUP_MOUNTPOINT": mountpoint, "SQBACKUP_MOUNT_OPTIONS": "ro,refresh=60,max_open=4"]
        let paths = ["/var/cache/sqbackup": work.child("cache"), "/var/log/sqbackup": work.child("log")]
        try FileManager.default.createDirectory(atPath: work.child("log"), withIntermediateDirectories: true)
        // /etc/sqbackup/store.env, as the unit's EnvironmentFile= reads it.
        let environment = ["SQBACKUP_STORE": store, "SQBACKUP_STORE_DIR": ""]
        for key in ["ExecStartPre", "ExecStart"] {
            let command = unit.command(key, instance: "all", variables: variables, paths: paths)
            if key == "ExecStart" { #expect(Array(command.dropFirst().prefix(2)) == ["mount", "all"], "\(command)") }
            let result = try Shell.run(command, environment: environment)
            #expect(result.succeeded, "\(key) \(command): \(result.stderr)")
        }
        defer { _ = try? SQBackupBinary.run(["unmount", mountpoint]) }
        #expect(MountTable.isMounted(mountpoint))
        let listed = (try? FileManager.default.contentsOfDirectory(atPath: mountpoint + "/by-id")) ?? []
        #expect(listed.sorted() == ids.sorted())
        #expect(FileManager.default.contents(atPath: mountpoint + "/latest/file.txt") == Data("in the store\n".utf8))
        let log = work.child("log/mount-all.log")
        #expect(FileManager.default.fileExists(atPath: log), "the unit's --log-file was not used")

        let stop = unit.command("ExecStop", instance: "all", variables: variables, paths: paths)
        let stopped = try Shell.run(stop, environment: environment)
        #expect(stopped.succeeded, "\(stop): \(stopped.stderr)")
        #expect(!MountTable.isMounted(mountpoint))
    }
}

import BackupTestSupport
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A backup of a small tree in a local store, and sqbackup installed by `make install` into a
/// temporary prefix whose helper the tests link into /sbin (the only place mount(8) looks).
private struct HelperFixture {
    let work: TemporaryDirectory
    let source: String
    let store: String
    let id: String
    let mountpoint: String
    let cache: String
    var prefix: String { work.child("prefix") }
    var helper: String { prefix + "/sbin/mount.fuse.sqbackup" }

    init(environment: [String: String]? = nil, storeArguments: [String]? = nil) throws {
        work = try TemporaryDirectory(InstalledSqbackup.testPrefixLabel)
        source = work.child("src")
        store = work.child("store")
        mountpoint = work.child("mnt")
        cache = work.child("cache")
        try FileManager.default.createDirectory(atPath: source + "/dir", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        try Data("hello from a backup\n".utf8).write(to: URL(fileURLWithPath: source + "/dir/hello.txt"))
        try Data(TestTree.pseudoRandomBytes(count: 600_000, seed: 5)).write(
            to: URL(fileURLWithPath: source + "/blob"))
        let created = try SQBackupBinary.run(
            ["create", source, "--json"] + (storeArguments ?? ["--store", "file://\(store)"]),
            environment: environment)
        guard created.succeeded,
            let object = try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any],
            let id = object["id"] as? String
        else {
            Issue.record("create failed: \(created.stderr)")
            throw CancellationError()
        }
        self.id = id
        try InstalledSqbackup.install(prefix: prefix)
    }

    /// One more backup of the source in the local store, with `flags` (`--sandbox-id`, `--meta`); its id.
    func backup(_ flags: [String]) throws -> String {
        let created = try SQBackupBinary.run(["create", source, "--quiet", "--store", "file://\(store)"] + flags)
        #expect(created.succeeded, "\(created.stderr)")
        return created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func names(_ relative: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: mountpoint + "/" + relative)) ?? []).sorted()
    }

    /// The mount daemon serving the mountpoint, if one runs.
    var daemon: pid_t? {
        let output = (try? Shell.run(["pgrep", "-f", "sqbackup mount .* \(mountpoint) --foreground"]))?.stdout ?? ""
        return output.split(separator: "\n").first.flatMap { pid_t($0) }
    }

    /// Plain umount(8), as a user or systemd would; then the daemon must exit by itself.
    func unmountAndExpectDaemonGone() throws {
        let pid = daemon
        #expect(pid != nil, "no mount daemon found for \(mountpoint)")
        let unmounted = try Shell.run(["umount", mountpoint])
        #expect(unmounted.succeeded, "\(unmounted.stderr)")
        #expect(!MountTable.isMounted(mountpoint))
        if let pid { #expect(waitFor { kill(pid, 0) != 0 }, "daemon \(pid) still running after umount") }
    }

    func remove() {
        if MountTable.isMounted(mountpoint) { _ = try? Shell.run(["umount", mountpoint]) }
        work.remove()
    }
}

private func waitFor(seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

@Suite("mount(8), fstab and mount.fuse.sqbackup, through the kernel", .serialized)
struct MountHelperTests {
    @Test("mount -t fuse.sqbackup ID DIR -o store=,cache_dir=,memory_cache= mounts; plain umount stops the daemon")
    func mountByType() throws {
        guard try requireFuse() else { return }
        let fixture = try HelperFixture()
        defer { fixture.remove() }
        let options = "ro,store=file://\(fixture.store),cache_dir=\(fixture.cache),memory_cache=64M,cache_size=1G"
        try InstalledSqbackup.withSystemHelper(fixture.helper) {
            let mounted = try Shell.run(["mount", "-t", "fuse.sqbackup", fixture.id, fixture.mountpoint, "-o", options])
            #expect(mounted.succeeded, "\(mounted.stderr)")
            // mount(8) returns once the daemon reports ready: no polling.
            #expect(MountTable.isMounted(fixture.mountpoint))
            #expect(TreeComparison().differences(expected: fixture.source, actual: fixture.mountpoint).isEmpty)
            let cached = (try? FileManager.default.subpathsOfDirectory(atPath: fixture.cache)) ?? []
            #expect(!cached.isEmpty, "cache_dir= was not used for the disk cache")
            try fixture.unmountAndExpectDaemonGone()
        }
    }

    @Test("an fstab line with ro,_netdev,nofail,x-systemd.automount mounts with mount -T FSTAB DIR")
    func fstabLine() throws {
        guard try requireFuse() else { return }
        let fixture = try HelperFixture()
        defer { fixture.remove() }
        let fstab = fixture.work.child("fstab")
        let options =
            "ro,_netdev,nofail,x-systemd.automount,x-systemd.idle-timeout=10min,comment=test,"
            + "store=file://\(fixture.store),cache_dir=\(fixture.cache),prefetch=all,allow_other"
        try Data("# a test fstab\n\(fixture.id) \(fixture.mountpoint) fuse.sqbackup \(options) 0 0\n".utf8)
            .write(to: URL(fileURLWithPath: fstab))
        try InstalledSqbackup.withSystemHelper(fixture.helper) {
            let mounted = try Shell.run(["mount", "-T", fstab, fixture.mountpoint])
            #expect(mounted.succeeded, "\(mounted.stderr)")
            #expect(MountTable.text.contains("\(fixture.mountpoint) fuse.sqbackup ro,"))
            #expect(MountTable.text.contains("allow_other"), "allow_other did not reach the FUSE mount")
            #expect(TreeComparison().differences(expected: fixture.source, actual: fixture.mountpoint).isEmpty)
            try fixture.unmountAndExpectDaemonGone()
        }
    }

    @Test("mount -t fuse.sqbackup all DIR mounts every backup, with refresh=, max_open=, sandbox= and meta= filters")
    func browserByType() throws {
        guard try requireFuse() else { return }
        let fixture = try HelperFixture()
        defer { fixture.remove() }
        let wanted = try fixture.backup(["--sandbox-id", "web-1", "--meta", "env=prod", "--meta", "team=a"])
        let otherMeta = try fixture.backup(["--sandbox-id", "web-1", "--meta", "env=dev"])
        let options =
            "ro,store=file://\(fixture.store),cache_dir=\(fixture.cache),refresh=1s,max_open=2,sandbox=web-1,"
            + "meta=env=prod,meta=team=a"
        try InstalledSqbackup.withSystemHelper(fixture.helper) {
            let mounted = try Shell.run(["mount", "-t", "fuse.sqbackup", "all", fixture.mountpoint, "-o", options])
            #expect(mounted.succeeded, "\(mounted.stderr)")
            #expect(MountTable.text.contains("\(fixture.mountpoint) fuse.sqbackup"))
            #expect(fixture.names("") == ["by-date", "by-id", "by-sandbox", "latest"])
            #expect(fixture.names("by-id") == [wanted], "the filters were not applied: \(fixture.names("by-id"))")
            #expect(!fixture.names("by-id").contains(otherMeta) && !fixture.names("by-id").contains(fixture.id))
            var comparison = TreeComparison()
            comparison.compareRoot = false
            #expect(comparison.differences(expected: fixture.source, actual: fixture.mountpoint + "/latest/").isEmpty)

            // refresh=1s: a new backup matching the filters shows up within seconds.
            let later = try fixture.backup(["--sandbox-id", "web-1", "--meta", "env=prod", "--meta", "team=a"])
            #expect(waitFor { fixture.names("by-id") == [later, wanted].sorted() }, "\(fixture.names("by-id"))")
            try fixture.unmountAndExpectDaemonGone()
        }
    }

    @Test("an fstab line with the source all mounts the browser with mount -T FSTAB DIR; umount ends it")
    func browserFstabLine() throws {
        guard try requireFuse() else { return }
        let fixture = try HelperFixture()
        defer { fixture.remove() }
        let fstab = fixture.work.child("fstab")
        let options =
            "ro,_netdev,nofail,x-systemd.automount,store=file://\(fixture.store),cache_dir=\(fixture.cache),"
            + "refresh=30,max_open=4,allow_other"
        try Data("all \(fixture.mountpoint) fuse.sqbackup \(options) 0 0\n".utf8).write(to: URL(fileURLWithPath: fstab))
        try InstalledSqbackup.withSystemHelper(fixture.helper) {
            let mounted = try Shell.run(["mount", "-T", fstab, fixture.mountpoint])
            #expect(mounted.succeeded, "\(mounted.stderr)")
            #expect(MountTable.text.contains("allow_other"), "allow_other did not reach the FUSE mount")
            #expect(fixture.names("by-id") == [fixture.id])
            var comparison = TreeComparison()
            comparison.compareRoot = false
            let byID = fixture.mountpoint + "/by-id/" + fixture.id
            #expect(comparison.differences(expected: fixture.source, actual: byID).isEmpty)
            let status = try SQBackupBinary.run(["status", fixture.mountpoint, "--json"])
            #expect(status.succeeded && status.stdout.contains("\"openImages\""), "\(status.stdout)\(status.stderr)")
            try fixture.unmountAndExpectDaemonGone()
        }
    }

    @Test(
        "bad browser options are refused naming the option, and nothing is mounted",
        arguments: [
            (source: "all", options: "ro,refresh=soon", named: "'refresh': expected seconds"),
            (source: "all", options: "ro,refresh=-3", named: "'refresh': expected seconds"),
            (source: "all", options: "ro,max_open=0", named: "'max_open': expected a number of images from 1 to 4096"),
            (source: "all", options: "ro,meta=novalue", named: "'meta': expected KEY=VALUE"),
            (source: "all", options: "ro,sandbox=", named: "'sandbox' needs a value"),
            (source: "", options: "ro,refresh=5", named: "'refresh' applies to a mount of every backup only"),
        ])
    func badBrowserOptions(source: String, options: String, named: String) throws {
        guard try requireFuse() else { return }
        let fixture = try HelperFixture()
        defer { fixture.remove() }
        let all = "store=file://\(fixture.store),\(options)"
        try InstalledSqbackup.withSystemHelper(fixture.helper) {
            let mounted = try Shell.run(
                ["mount", "-t", "fuse.sqbackup", source.isEmpty ? fixture.id : source, fixture.mountpoint, "-o", all])
            #expect(!mounted.succeeded)
            #expect(mounted.stderr.contains(named), "\(mounted.stderr)")
            #expect(!MountTable.isMounted(fixture.mountpoint))
        }
    }

    @Test(
        "bad mount options are refused with an error naming the option, and nothing is mounted",
        arguments: [
            (options: "ro,no_such_option", named: "'no_such_option'"),
            (options: "ro,secret_key=hunter2", named: "'secret_key'"),
            (options: "", named: "'rw'"),  // mount(8) passes rw when ro is not given
            (options: "ro,cache_dir=relative/dir", named: "'cache_dir': expected an absolute path"),
            (options: "ro,prefetch=some", named: "'prefetch': expected all or none"),
            (options: "ro,cache_size=lots", named: "'cache_size': expected a size"),
            (options: "ro,allow_other=1", named: "'allow_other' takes no value"),
        ])
    func badOptions(options: String, named: String) throws {
        guard try requireFuse() else { return }
        let fixture = try HelperFixture()
        defer { fixture.remove() }
        let all = ["store=file://\(fixture.store)", options].filter { !$0.isEmpty }.joined(separator: ",")
        try InstalledSqbackup.withSystemHelper(fixture.helper) {
            let mounted = try Shell.run(["mount", "-t", "fuse.sqbackup", fixture.id, fixture.mountpoint, "-o", all])
            #expect(!mounted.succeeded)
            #expect(mounted.stderr.contains(named), "\(mounted.stderr)")
            #expect(!mounted.stderr.contains("hunter2"), "an unknown option's value was echoed")
            #expect(!MountTable.isMounted(fixture.mountpoint))
        }
    }

    @Test(
        "a credentials file readable by others, or not owned by root, is refused naming the file",
        arguments: [(mode: 0o644, owner: uid_t(0), fix: "chmod 600"), (mode: 0o600, owner: uid_t(65534), fix: "chown")])
    func unsafeCredentials(mode: Int, owner: uid_t, fix: String) throws {
        guard try requireFuse() else { return }
        let fixture = try HelperFixture()
        defer { fixture.remove() }
        let credentials = fixture.work.child("r2.env")
        try Data("AWS_ACCESS_KEY_ID=AKIDEXAMPLE\nAWS_SECRET_ACCESS_KEY=do-not-print-me\n".utf8)
            .write(to: URL(fileURLWithPath: credentials))
        #expect(chmod(credentials, mode_t(mode)) == 0)
        #expect(chown(credentials, owner, gid_t(owner)) == 0)
        let options = "ro,store=file://\(fixture.store),credentials=\(credentials)"
        try InstalledSqbackup.withSystemHelper(fixture.helper) {
            let mounted = try Shell.run(["mount", "-t", "fuse.sqbackup", fixture.id, fixture.mountpoint, "-o", options])
            #expect(!mounted.succeeded)
            #expect(
                mounted.stderr.contains("INVALID_BACKUP_CONFIG: credentials file \(credentials)"), "\(mounted.stderr)")
            #expect(mounted.stderr.contains(fix), "\(mounted.stderr)")
            #expect(!mounted.stderr.contains("do-not-print-me"))
            #expect(!MountTable.isMounted(fixture.mountpoint))
        }
    }

    @Test("credentials=FILE (root-owned, mode 600) supplies the keys for a backup in S3 (moto)")
    func credentialsFileAgainstS3() throws {
        guard try requireFuse() else { return }
        let pool = try S3BucketPool.shared()
        let bucket = try pool.takeBucket()
        let fixture = try HelperFixture(environment: pool.environment(bucket: bucket), storeArguments: [])
        defer { fixture.remove() }
        let credentials = fixture.work.child("s3.env")
        let text = """
            # keys for the test bucket
            AWS_ACCESS_KEY_ID=\(pool.accessKeyId)
            export AWS_SECRET_ACCESS_KEY="\(pool.secretAccessKey)"
            AWS_REGION=\(pool.region)

            """
        try Data(text.utf8).write(to: URL(fileURLWithPath: credentials))
        #expect(chmod(credentials, 0o600) == 0)
        // The keys must come from the file: none in the environment mount(8) passes on.
        let noKeys = [
            "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "R2_ACCESS_KEY_ID": "",
            "R2_SECRET_ACCESS_KEY": "", "BACKUP_BUCKET_NAME": "", "SQBACKUP_STORE": "",
        ]
        let store = "store=s3://\(bucket)?endpoint=\(pool.endpoint)"
        try InstalledSqbackup.withSystemHelper(fixture.helper) {
            let withoutFile = try Shell.run(
                ["mount", "-t", "fuse.sqbackup", fixture.id, fixture.mountpoint, "-o", "ro,\(store)"],
                environment: noKeys)
            #expect(!withoutFile.succeeded, "mounted without credentials: the test proves nothing")
            #expect(withoutFile.stderr.contains("no credentials"), "\(withoutFile.stderr)")

            let options = "ro,\(store),credentials=\(credentials),cache_dir=\(fixture.cache)"
            let mounted = try Shell.run(
                ["mount", "-t", "fuse.sqbackup", fixture.id, fixture.mountpoint, "-o", options], environment: noKeys)
            #expect(mounted.succeeded, "\(mounted.stderr)")
            #expect(!(mounted.stderr + mounted.stdout).contains(pool.secretAccessKey))
            #expect(TreeComparison().differences(expected: fixture.source, actual: fixture.mountpoint).isEmpty)
            try fixture.unmountAndExpectDaemonGone()
        }
    }
}

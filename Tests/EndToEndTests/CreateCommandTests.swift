import BackupTestSupport
import Foundation
import RemoteStorage
import SQBackup
import Storage
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("sqbackup create, end to end", .serialized)
struct CreateCommandTests {
    @Test("create --json into the local store, then mount the backup by id through the kernel")
    func createAndMount() throws {
        let work = try TemporaryDirectory("cli-create")
        defer { work.remove() }
        let source = try CreateFixture.standardTree(in: work)
        let storeArguments = ["--store", "file://\(work.child("store"))"]
        let created = try SQBackupBinary.run(
            ["create", source, "--json", "--description", "demo", "--meta", "k=v", "--ttl", "36h"] + storeArguments,
            environment: ["SANDBOX_ID": "sandbox-cli"])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stderr.isEmpty, "piped: no progress line")
        let backup = try BackupJSON.decoder().decode(DirectoryBackup.self, from: Data(created.stdout.utf8))
        #expect(backup.sandboxId == "sandbox-cli")
        #expect(backup.description == "demo" && backup.metadata == ["k": "v"])
        #expect(backup.dir == source)
        #expect(backup.expiresAt.timeIntervalSince(backup.createdAt) == 36 * 3600)

        let human = try SQBackupBinary.run(["create", source] + storeArguments)
        #expect(human.status == 0, "\(human.stderr)")
        #expect(human.stdout.hasPrefix("backup ") && human.stdout.contains("files"))

        guard try requireFuse() else { return }
        let mountpoint = work.child("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        let mounted = try SQBackupBinary.run(["mount", backup.id, mountpoint] + storeArguments)
        #expect(mounted.status == 0, "\(mounted.stderr)")
        var comparison = TreeComparison()
        comparison.compareRoot = false
        #expect(comparison.differences(expected: source, actual: mountpoint).isEmpty)
        #expect(try SQBackupBinary.run(["unmount", mountpoint]).status == 0)
    }

    @Test("create against moto through the spec's variables, then list it there", arguments: S3Transport.allCases)
    func createOnMoto(transport: S3Transport) throws {
        let work = try TemporaryDirectory("cli-create-s3")
        defer { work.remove() }
        let source = try CreateFixture.standardTree(in: work)
        let pool = try S3BucketPool.shared()
        let bucket = try pool.takeBucket()
        let environment = try transport.environment(bucket: bucket)
        let created = try SQBackupBinary.run(
            ["create", source, "--json", "--compressor", "lz4"], environment: environment)
        #expect(created.status == 0, "\(created.stderr)")
        let backup = try BackupJSON.decoder().decode(DirectoryBackup.self, from: Data(created.stdout.utf8))
        let listed = try SQBackupBinary.run(["list", "--json"], environment: environment)
        let backups = try BackupJSON.decoder().decode([DirectoryBackup].self, from: Data(listed.stdout.utf8))
        #expect(backups.map(\.id) == [backup.id])
        let store = try CreateFixture.poolStore(bucket: bucket, transport: transport)
        let image = work.child("image.sqsh")
        try CreateFixture.download(store, key: "backups/\(backup.id)/data.sqsh", to: image)
        #expect(try CreateFixture.extractedDifferences(image: image, source: source) == [])
        #expect(!created.stderr.contains(pool.secretAccessKey))
    }

    @Test("a progress line on a terminal only")
    func progressOnTerminal() throws {
        try #require(Shell.has("script"))
        let work = try TemporaryDirectory("cli-progress")
        defer { work.remove() }
        let source = try CreateFixture.incompressibleTree(in: work, megabytes: 12)
        let command = [SQBackupBinary.path, "create", source, "--store", "file://\(work.child("store"))"]
            .map { "'\($0)'" }.joined(separator: " ")
        // `script` gives the command a pseudo-terminal; its transcript holds what the terminal showed.
        let transcript = work.child("transcript")
        let result = try Shell.run(["script", "-q", "-e", "-c", command, transcript])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let shown = (try? String(contentsOfFile: transcript, encoding: .utf8)) ?? ""
        #expect(shown.contains("files ") && shown.contains("uploaded"), "\(shown)")
        #expect(shown.contains("backup "))
    }

    @Test("bad input: missing directory, unknown compressor, bad --meta")
    func badInput() throws {
        let work = try TemporaryDirectory("cli-create-bad")
        defer { work.remove() }
        let storeArguments = ["--store", "file://\(work.child("store"))"]
        let missing = try SQBackupBinary.run(["create", work.child("nope")] + storeArguments)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("BACKUP_CREATE_FAILED") && missing.stderr.contains("directory not found"))
        // Checked before the store: even without any store configuration.
        let noStore = try SQBackupBinary.run(
            ["create", work.child("nope")], environment: ["BACKUP_BUCKET_NAME": "b", "SQBACKUP_STORE": ""])
        #expect(noStore.status == 1 && noStore.stderr.contains("directory not found"), "\(noStore.stderr)")
        let compressor = try SQBackupBinary.run(["create", work.path, "--compressor", "lzo"] + storeArguments)
        #expect(compressor.status == 1 && compressor.stderr.contains("INVALID_BACKUP_CONFIG"))
        #expect(try SQBackupBinary.run(["create", work.path, "--meta", "novalue"] + storeArguments).status != 0)
        let notGit = try SQBackupBinary.run(["create", work.path, "--gitignore"] + storeArguments)
        #expect(notGit.status == 1 && notGit.stderr.contains("git work tree"), "\(notGit.stderr)")
    }

    @Test("--gitignore leaves out what git ignores; --exclude takes globs")
    func gitignore() throws {
        try #require(Shell.has("git"))
        let work = try TemporaryDirectory("cli-gitignore")
        defer { work.remove() }
        let source = work.child("repo")
        for directory in ["src", "build/obj", "node_modules/pkg", "notes"] {
            try FileManager.default.createDirectory(atPath: source + "/" + directory, withIntermediateDirectories: true)
        }
        let files = [
            ".gitignore": "build/\nnode_modules/\n*.log\n", "src/main.c": "int main;\n", "src/debug.log": "x\n",
            "build/obj/main.o": "o\n", "node_modules/pkg/index.js": "js\n", "notes/a [1].txt": "n\n",
            "notes/skip.tmp": "t\n",
        ]
        for (path, text) in files { try Data(text.utf8).write(to: URL(fileURLWithPath: source + "/" + path)) }
        try Shell.check(["git", "-C", source, "init", "-q"])

        let output = work.child("image.sqsh")
        let result = try SQBackupBinary.run(
            ["create", source, "--gitignore", "--exclude", "**/*.tmp", "--output", output])
        #expect(result.status == 0, "\(result.stderr)")
        let listing = try Shell.check(["unsquashfs", "-l", output])
        #expect(listing.contains("src/main.c") && listing.contains("notes/a [1].txt") && listing.contains(".gitignore"))
        #expect(!listing.contains("debug.log") && !listing.contains("build") && !listing.contains("node_modules"))
        #expect(!listing.contains("skip.tmp"))
    }

    @Test("SIGTERM or SIGINT during the upload: exit non-zero, nothing left", arguments: [SIGTERM, SIGINT])
    func signalDuringUpload(signalNumber: Int32) throws {
        let work = try TemporaryDirectory("cli-sigterm")
        defer { work.remove() }
        let source = try CreateFixture.incompressibleTree(in: work, megabytes: 24)
        let pool = try S3BucketPool.shared()
        let bucket = try pool.takeBucket()
        let proxy = try FaultProxy(upstreamPort: pool.port, stallSeconds: 3)
        // Listing and upload creation pass; the first two part uploads stall (then fail and are retried),
        // so the create is mid-upload for a while; the abort that follows the signal passes.
        try proxy.inject(["pass", "pass", "stall-before-headers", "stall-before-headers"])
        let direct = try CreateFixture.poolStore(bucket: bucket)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: SQBackupBinary.path)
        process.arguments = ["create", source, "--part-size", "5M"]
        process.environment = ProcessInfo.processInfo.environment.merging(
            pool.environment(bucket: bucket, endpoint: proxy.endpoint)
        ) { $1 }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()

        let deadline = Date().addingTimeInterval(60)
        var uploading = false
        while Date() < deadline && process.isRunning {
            if try !direct.listMultipartUploads(prefix: "backups/").isEmpty {
                uploading = true
                break
            }
            usleep(50_000)
        }
        #expect(uploading, "the create never started a multipart upload")
        kill(process.processIdentifier, signalNumber)
        try #require(process.waitForExit(timeout: 120), "the create did not exit within 120 s of the signal")
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 130, "an interrupted command exits 130")
        let name = signalNumber == SIGTERM ? "SIGTERM" : "SIGINT"
        #expect(stderr.contains("OPERATION_INTERRUPTED") && stderr.contains("interrupted by \(name)"), "\(stderr)")
        #expect(!stderr.contains("cleanup incomplete"), "\(stderr)")
        try CreateFixture.expectNothingLeft(direct)
    }
}

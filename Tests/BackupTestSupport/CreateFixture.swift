import Foundation
import RemoteStorage
import SQBackup
import Storage
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Source trees and store helpers for the create tests.
public enum CreateFixture {
    /// The standard test tree without its large files, in `work/src`.
    public static func standardTree(in work: TemporaryDirectory) throws -> String {
        let source = work.child("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        var options = TestTree.Options()
        options.wideDirectoryEntries = 300
        options.largeFiles = false
        try TestTree.populate(at: source, options: options)
        return source
    }

    /// A tree of incompressible files totalling about `megabytes` MiB, so the image is about as big.
    public static func incompressibleTree(in work: TemporaryDirectory, megabytes: Int) throws -> String {
        let source = work.child("random")
        try FileManager.default.createDirectory(atPath: source + "/d", withIntermediateDirectories: true)
        for index in 0..<megabytes {
            let bytes = TestTree.pseudoRandomBytes(count: 1 << 20, seed: UInt64(index + 1))
            try Data(bytes).write(to: URL(fileURLWithPath: source + "/d/f\(index)"))
        }
        return source
    }

    /// An S3 store on `bucket` of the pool over `transport`, optionally through `endpoint` (a fault proxy).
    public static func poolStore(
        bucket: String, endpoint: String? = nil, attempts: Int = 3, transport: S3Transport = .http
    ) throws -> S3Store {
        let pool = try S3BucketPool.shared()
        let trust = try transport.trust()
        return try S3Store(
            configuration: S3Configuration(
                endpoint: try endpoint ?? transport.endpoint(), bucket: bucket, region: pool.region,
                credentials: AWSCredentials(accessKeyId: pool.accessKeyId, secretAccessKey: pool.secretAccessKey),
                trust: trust),
            client: trust.client, retryPolicy: RetryPolicy(maxAttempts: attempts, baseDelay: 0.01, maxDelay: 0.05))
    }

    /// Downloads an object to a local file (for unsquashfs).
    public static func download(_ store: any ObjectStore, key: String, to path: String) throws {
        try Data(try store.get(key)).write(to: URL(fileURLWithPath: path))
    }

    /// Differences between `source` and what `unsquashfs` extracts from `image` (an independent oracle).
    public static func extractedDifferences(image: String, source: String) throws -> [String] {
        let extracted = image + ".extracted"
        try Shell.check(["unsquashfs", "-q", "-n", "-d", extracted, image])
        defer { try? FileManager.default.removeItem(atPath: extracted) }
        var comparison = TreeComparison()
        comparison.compareRoot = false
        return comparison.differences(expected: source, actual: extracted)
    }

    public static func sha256(of path: String) throws -> String {
        String(try Shell.check(["sha256sum", path]).prefix(64))
    }

    /// The composite SHA-256 of a file cut into `partSize` parts, computed by Python's hashlib (an
    /// independent implementation): (64 hex digits, part count).
    public static func compositeSHA256(of path: String, partSize: Int) throws -> (sha256: String, parts: Int) {
        let script = """
            import hashlib, sys
            digests = []
            with open(sys.argv[1], "rb") as f:
                while part := f.read(int(sys.argv[2])):
                    digests.append(hashlib.sha256(part).digest())
            print(hashlib.sha256(b"".join(digests)).hexdigest(), len(digests))
            """
        let output = try Shell.check(["python3", "-c", script, path, String(partSize)])
        let words = output.split(whereSeparator: \.isWhitespace)
        return (words.first.map(String.init) ?? "", words.count > 1 ? Int(words[1]) ?? -1 : -1)
    }

    /// Every regular file under `root` (a local store), relative, sorted: staged or temporary files
    /// included, which the store's own listing hides.
    public static func filesOnDisk(_ root: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var files: [String] = []
        while let relative = walker.nextObject() as? String {
            var info = stat()
            if lstat(root + "/" + relative, &info) == 0 && (info.st_mode & S_IFMT) != S_IFDIR {
                files.append(relative)
            }
        }
        return files.sorted()
    }

    /// Asserts that nothing of any backup is left: no objects, no uploads in progress, nothing listed.
    public static func expectNothingLeft(_ store: any ObjectStore, sourceLocation: SourceLocation = #_sourceLocation)
        throws
    {
        #expect(try store.listAll(prefix: "backups/").map(\.key) == [], sourceLocation: sourceLocation)
        #expect(
            try store.listMultipartUploads(prefix: "backups/").map(\.key) == [], sourceLocation: sourceLocation)
        #expect(try BackupCatalog(store: store).list().backups.isEmpty, sourceLocation: sourceLocation)
    }
}

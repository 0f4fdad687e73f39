import Foundation
import SquashWriter
import TestSupport

/// Shared source trees (generated once per test process) and helpers around the oracle tools.
enum Fixtures {
    /// The full TestTree (10k-entry directory, multi-MiB, sparse, every entry type), shared by the process.
    static func standardSource() throws -> String { try TestTree.shared() }

    /// Builds `source` into a file image at `image` and returns the result.
    @discardableResult
    static func build(_ source: String, to image: String, _ configure: (inout BuildOptions) -> Void = { _ in }) throws
        -> BuildResult
    {
        var options = BuildOptions()
        options.threads = 2
        configure(&options)
        return try ImageBuilder(options: options).build(directory: source, into: FileImageSink(path: image))
    }

    /// `unsquashfs -lln` of `image` with the root renamed to "ROOT", one entry per line, sorted.
    /// Directory sizes are dropped: they measure the on-disk listing, which depends on how a writer
    /// groups entries under headers, not on the tree.
    static func listing(_ image: String) throws -> [String] {
        let output = try Shell.check(["unsquashfs", "-lln", "-d", "ROOT", image])
        return output.split(separator: "\n").compactMap { line -> String? in
            guard line.contains("ROOT") else { return nil }
            var fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true).map(String.init)
            guard fields.count == 6 else { return String(line) }
            if fields[0].hasPrefix("d") { fields[2] = "-" }
            return fields.joined(separator: " ")
        }.sorted()
    }

    /// `sha256sum` of a file, as an independent check of the digest the sink reports.
    static func sha256sum(_ path: String) throws -> String {
        String(try Shell.check(["sha256sum", path]).prefix(64))
    }
}

extension Fixtures {
    /// Mounts `image` with squashfuse. squashfuse daemonizes, and Foundation's `Process` here does
    /// not notice a child whose own child lives on, so this spawns and reaps it directly.
    static func squashfuse(_ image: String, at mountPoint: String, program: String = "squashfuse") throws {
        let arguments = [program, image, mountPoint]
        var cArguments = arguments.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, program, nil, nil, &cArguments, environ)
        guard spawned == 0 else { throw ShellError.failed(program, spawned, "posix_spawnp failed") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw ShellError.failed(arguments.joined(separator: " "), status, "mount failed") }
    }

    static func unmount(_ mountPoint: String) {
        _ = try? Shell.run(["fusermount3", "-u", mountPoint])
    }
}

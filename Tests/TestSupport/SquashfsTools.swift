import Foundation

/// The squashfs-tools and squashfs-tools-ng programs used as independent oracles in tests.
public enum SquashfsTools {
    /// Builds an image of `directory` with mksquashfs; SOURCE_DATE_EPOCH is cleared because
    /// mksquashfs would otherwise rewrite every mtime.
    public static func mksquashfs(
        _ directory: String, to image: String, compressor: String = "zstd", blockSize: Int = 131_072,
        extra: [String] = []
    ) throws {
        try requireTools()
        try? FileManager.default.removeItem(atPath: image)
        var arguments = [
            "env", "-u", "SOURCE_DATE_EPOCH", "mksquashfs", directory, image, "-noappend", "-no-progress", "-quiet",
            "-comp", compressor, "-b", String(blockSize),
        ]
        arguments += extra
        try Shell.check(arguments)
    }

    /// Fails with installation advice when the oracle tools are missing (CI installs them).
    public static func requireTools() throws {
        for tool in ["mksquashfs", "unsquashfs"] where !Shell.has(tool) {
            throw ShellError.failed(
                tool, 127, "\(tool) is not installed: apt-get install squashfs-tools squashfs-tools-ng squashfuse")
        }
    }
}

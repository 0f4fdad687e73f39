import Foundation
import SquashWriter
import Testing
import TestSupport

@Suite struct SmokeTests {
    @Test func buildsSmallTree() throws {
        let temp = try TemporaryDirectory("writer-smoke")
        defer { temp.remove() }
        let source = temp.child("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        var options = TestTree.Options()
        options.wideDirectoryEntries = 100
        try TestTree.populate(at: source, options: options)
        let image = temp.child("image.sqfs")
        let result = try ImageBuilder().build(directory: source, into: FileImageSink(path: image))
        print(result)
        print(try Shell.run(["unsquashfs", "-s", image]).stdout)
        let out = try Shell.run(["unsquashfs", "-lln", image])
        print(out.stdout.prefix(3000), out.stderr)
        let extract = temp.child("out")
        let x = try Shell.run(["unsquashfs", "-d", extract, image])
        print(x.stderr)
        let problems = TreeComparison().differences(expected: source, actual: extract)
        print(problems.prefix(50).joined(separator: "\n"))
        #expect(problems.isEmpty)
    }
}

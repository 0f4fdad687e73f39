import Foundation
import TestSupport
import Testing

@testable import SquashWriter

@Suite struct SinkTests {
    /// The bridge is append-only: anything else fails loudly instead of corrupting the stream.
    @Test func bridgeRefusesOutOfOrderWrites() throws {
        let sink = MemoryImageSink()
        let bridge = SinkBridge(sink: sink)
        let bytes = [UInt8](repeating: 7, count: 200)
        try bytes.withUnsafeBytes { raw in
            #expect(bridge.write(at: 0, raw) == 0)
            #expect(bridge.write(at: 200, UnsafeRawBufferPointer(rebasing: raw[0..<50])) == 0)
            #expect(bridge.size == 250)
            #expect(bridge.write(at: 100, UnsafeRawBufferPointer(rebasing: raw[0..<10])) != 0)
            let failure = try #require(bridge.failure)
            #expect(failure.description.contains("append-only"))
            // The final superblock at offset 0 is captured, not written.
            #expect(bridge.write(at: 0, UnsafeRawBufferPointer(rebasing: raw[0..<96])) == 0)
        }
        #expect(bridge.header?.count == 96)
        #expect(sink.bytes.count == 250)
    }

    @Test func fileSinkPatchesTheHeaderAndHashesTheFinalBytes() throws {
        let work = try TemporaryDirectory("writer-sink")
        defer { work.remove() }
        let path = work.child("out")
        let sink = try FileImageSink(path: path)
        let big = TestTree.pseudoRandomBytes(count: 3 << 20, seed: 1)
        try [UInt8](repeating: 0, count: 96).withUnsafeBytes { try sink.write($0) }
        try big.withUnsafeBytes { try sink.write($0) }
        try [UInt8](repeating: 9, count: 10).withUnsafeBytes { try sink.write($0) }
        #expect(sink.bytesWritten == UInt64(96 + big.count + 10))
        let header = [UInt8](repeating: 0x5A, count: 96)
        let digest = try sink.finish(header: header)
        let written = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(written == header + big + [UInt8](repeating: 9, count: 10))
        #expect(digest.sha256Hex == (try Fixtures.sha256sum(path)))
        #expect(throws: BuildError.self) { try sink.finish(header: header) }
    }
}

import Foundation
import MountFS
import SquashReader
import Storage
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// An image mounted through the kernel by this test process, served on a background thread.
final class MountedImage: @unchecked Sendable {
    let mountpoint: String
    let image: SquashImage
    private let mount: FuseMount
    private let finished = DispatchSemaphore(value: 0)

    init(imagePath: String, mountpoint: String, options: ReaderOptions = ReaderOptions()) throws {
        if let reason = FuseCapability.missingReason {
            throw FuseUnavailable(reason: reason)
        }
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        self.mountpoint = mountpoint
        image = try SquashImage.open(try LocalFileSource(path: imagePath), options: options)
        mount = try FuseMount(filesystem: SquashFilesystem(image: image), mountpoint: mountpoint)
        let mount = self.mount
        let finished = self.finished
        let thread = Thread {
            mount.serve()
            finished.signal()
        }
        thread.start()
    }

    /// Unmounts and waits for the serving loop to end.
    func unmount() {
        mount.unmount()
        _ = finished.wait(timeout: .now() + 20)
    }

    func path(_ relative: String) -> String { mountpoint + "/" + relative }
}

/// This machine cannot mount FUSE filesystems.
struct FuseUnavailable: Error, CustomStringConvertible {
    let reason: String
    var description: String { "FUSE unavailable: \(reason)" }
}

import Foundation
import MountFS
import SquashReader
import Storage
import Synchronization
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
    private let loopStatus = Mutex<Int32?>(nil)

    init(imagePath: String, mountpoint: String, options: ReaderOptions = ReaderOptions()) throws {
        if let reason = FuseCapability.missingReason {
            throw FuseUnavailable(reason: reason)
        }
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        self.mountpoint = mountpoint
        image = try SquashImage.open(try LocalFileSource(path: imagePath), options: options)
        mount = try FuseMount(filesystem: SquashFilesystem(image: image), mountpoint: mountpoint)
        let thread = Thread { [self] in
            let status = mount.serve()
            loopStatus.withLock { $0 = status }
            finished.signal()
        }
        thread.start()
    }

    /// Unmounts and waits for the serving loop to end; returns its status (nil: still running).
    @discardableResult
    func unmount() -> Int32? {
        mount.unmount()
        _ = finished.wait(timeout: .now() + 20)
        return loopStatus.withLock { $0 }
    }

    /// Detaches the mount without waiting for the loop (files still open keep it serving).
    func detach() { mount.unmount() }

    func path(_ relative: String) -> String { mountpoint + "/" + relative }
}

/// This machine cannot mount FUSE filesystems.
struct FuseUnavailable: Error, CustomStringConvertible {
    let reason: String
    var description: String { "FUSE unavailable: \(reason)" }
}

import Dispatch
import Foundation
import Synchronization

/// A backup mounted read-only by ``BackupClient/mount(_:at:options:)``, served by threads of this
/// process until ``unmount()``.
public final class MountedBackup: Sendable {
    /// The backup's id.
    public let id: String
    /// Where the backup is mounted.
    public var mountpoint: String { mount.mount.mountpoint }
    /// Why reads through this mount are unverified; nil when every block is checked.
    public var unverifiedReason: String? { mount.unverifiedReason }

    private let mount: ImageMount
    /// Signalled once the request loop has ended (the kernel closed the connection).
    private let ended = DispatchSemaphore(value: 0)
    private let serving = Atomic<Bool>(true)

    init(id: String, mount: ImageMount) {
        self.id = id
        self.mount = mount
        // The thread keeps the object alive while the mount is served.
        let thread = Thread { [self] in
            mount.serve {}
            serving.store(false, ordering: .releasing)
            ended.signal()
        }
        thread.start()
    }

    /// Whether the mount is still served (false once unmounted, by ``unmount()`` or by `umount`).
    public var isMounted: Bool { serving.load(ordering: .acquiring) }

    /// Detaches the mount and waits until its request loop has ended: at once, or when the last
    /// file still open on the mount is closed. Calling it again does nothing more.
    public func unmount() async {
        mount.mount.unmount()
        let ended = self.ended
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                ended.wait()
                ended.signal()  // for later callers
                continuation.resume()
            }
        }
    }
}

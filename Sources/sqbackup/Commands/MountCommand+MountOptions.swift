import ArgumentParser
import Foundation
import SQBackup

#if canImport(Glibc)
    import Glibc
#endif

extension MountCommand {
    /// This command with `--mount-options` folded into the flags of the same meaning (the list
    /// wins, as the later word), and the credentials file it names, if any.
    func applyingMountOptions() throws -> (command: MountCommand, credentialsFile: String?) {
        guard let mountOptions else { return (self, nil) }
        let list: MountOptionList
        do {
            list = try MountOptionList(parsing: mountOptions)
        } catch {
            throw ValidationError(error.description)
        }
        if let option = list.browserOption, !browser.mountsAll(source: image) {
            throw ValidationError(MountOptionError.browserOnly(option).description)
        }
        var command = self
        command.mountOptions = nil
        if let store = list.store { command.storeFlags.store = store }
        if let caBundle = list.caBundle { command.storeFlags.caBundle = caBundle }
        if let directory = list.cacheDirectory { command.cacheDir = directory }
        if let size = list.cacheSize { command.cacheSize = size }
        if let size = list.memoryCache { command.memoryCache = size }
        if list.prefetchAll { command.prefetch = .all }
        if !list.verify { command.verify = false }
        if let seconds = list.refreshSeconds { command.browser.refresh = seconds }
        if let count = list.maxOpen { command.browser.maxOpen = count }
        if let sandbox = list.sandbox { command.browser.sandbox = sandbox }
        command.browser.meta += list.metadata
        command.options += list.fuseOptions
        return (command, list.credentialsFile)
    }

    /// Puts the file's store settings into the environment, where the store selection and the
    /// daemon (which inherits it) read them; they beat what the environment had.
    static func loadCredentials(from path: String) throws {
        for (name, value) in try CredentialsFile.load(path: path) { setenv(name, value, 1) }
    }
}

import SquashReader

#if canImport(Glibc)
    import Glibc
#endif

extension RestoreRun {
    /// Gives hard-linked entries their further names, linking to the name restored first (inside
    /// the target). A link to an entry that was left out is left out too. Links come in tree
    /// order, so each side's directory is usually the last one's or a near relative.
    func makeLinks(_ plan: RestorePlan) throws {
        var linkDirectories = DirectoryChain(root: root)
        var primaryDirectories = DirectoryChain(root: root)
        for link in plan.links {
            try checkStop()
            let handle = try linkDirectories.open(link.directory, plan)
            let primaryHandle = try primaryDirectories.open(link.primary.directory, plan)
            let path = handle.display(link.name)
            if hasFailed(link.node) {
                let primary = primaryHandle.display(link.primary.name)
                reject(RestoreWarning(path: path, kind: .notCreated(reason: "a hard link to \(primary), not restored")))
                continue
            }
            do {
                try makeLink(link, in: handle, primaryHandle: primaryHandle)
            } catch {
                try skip(nil, path: path, after: error)
            }
        }
    }

    private func makeLink(_ link: RestorePlan.Link, in handle: DirectoryHandle, primaryHandle: DirectoryHandle)
        throws
    {
        // A fresh build has no old entry to compare with.
        if inPlace, let primary = primaryHandle.status(link.primary.name), let current = handle.status(link.name),
            primary.st_dev == current.st_dev && primary.st_ino == current.st_ino
        {
            unchanged.add(1, ordering: .relaxed)
            return
        }
        let staging = try createUnique(in: handle, link.name) { candidate in
            DirectoryHandle.withName(link.primary.name) { from in
                DirectoryHandle.withName(candidate) { linkat(primaryHandle.fd, from, handle.fd, $0, 0) }
            }
        }
        if staging != link.name {
            do {
                try moveIntoPlace(staging, link.name, in: handle)
            } catch {
                _ = DirectoryHandle.withName(staging) { unlinkat(handle.fd, $0, 0) }
                throw error
            }
        }
        written.add(1, ordering: .relaxed)
    }

    /// Removes what the snapshot does not have, after everything else was written: a restore that
    /// stops earlier has taken nothing away.
    func removeExtras(_ plan: RestorePlan) throws {
        var directories = DirectoryChain(root: root)
        for extra in plan.extras {
            try checkStop()
            let handle = try directories.open(extra.directory, plan)
            removed.add(try handle.removeTree(extra.name), ordering: .relaxed)
        }
    }

    /// Owner, mode, xattrs and mtime of every directory, children before parents, after all
    /// writes inside them (each write would bump the mtime again).
    func finishDirectories(_ plan: RestorePlan) throws {
        var directories = DirectoryChain(root: root)
        for index in plan.directories.indices.reversed() {
            try checkStop()
            let directory = plan.directories[index]
            guard let attributes = image.attributes(of: directory.node) else { continue }
            let handle = try directories.open(index, plan)
            let path = handle.path.isEmpty ? "." : handle.path
            do {
                try metadata.apply(fd: handle.fd, directory.node, attributes, path: path)
            } catch {
                try skip(directory.node, path: path, after: error)
            }
        }
    }
}

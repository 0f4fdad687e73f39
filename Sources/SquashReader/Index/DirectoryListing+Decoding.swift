// Decoding a directory's listing from the directory table.
extension DirectoryListing {
    /// Decodes the listing at `location`: runs of entries, each run behind a header naming the
    /// inode metadata block its entries live in and a base inode number.
    init(
        decoding location: InodeRecord.DirectoryLocation, of number: UInt32, tables: MetadataTables,
        directoryTableStart: UInt64
    ) throws {
        guard location.listingSize > 0 else { return }
        var cursor = try tables.cursor(
            block: directoryTableStart + UInt64(location.block), offset: Int(location.offset))
        let size = Int(location.listingSize)
        func corrupt(_ what: String) -> ImageError { tables.corrupt("directory inode \(number): \(what)") }
        while cursor.consumed < size {
            guard size - cursor.consumed >= 12 else { throw corrupt("listing ends inside a header") }
            let count = Int(try cursor.u32()) + 1
            let inodeBlock = UInt64(try cursor.u32())
            let baseNumber = Int64(try cursor.u32())
            guard count <= 256 else { throw corrupt("a header claims \(count) entries") }
            for _ in 0..<count {
                guard size - cursor.consumed >= 8 else { throw corrupt("listing ends inside an entry") }
                let offset = try cursor.u16()
                let delta = Int64(Int16(bitPattern: try cursor.u16()))
                let type = try cursor.u16()
                let nameLength = Int(try cursor.u16()) + 1
                guard size - cursor.consumed >= nameLength else { throw corrupt("listing ends inside a name") }
                let entryNumber = baseNumber + delta
                guard entryNumber > 0, entryNumber <= Int64(UInt32.max), offset < MetadataTables.blockCapacity,
                    Self.kind(ofType: type) != nil
                else { throw corrupt("entry with inode number \(entryNumber), type \(type), offset \(offset)") }
                let nameStart = UInt32(names.count)
                let problem = try cursor.withBytes(nameLength) { name -> String? in
                    let problem = DirectoryListing.unsafeNameProblem(name)
                    if problem == nil {
                        names.append(contentsOf: name)
                        names.append(0)  // NUL-terminated, so FUSE can take names in place
                    } else {
                        rejected.append((Array(name), problem!))
                    }
                    return problem
                }
                guard problem == nil else { continue }
                entries.append(
                    Entry(
                        nameStart: nameStart, nameLength: UInt32(nameLength), number: UInt32(entryNumber),
                        type: type, reference: inodeBlock << 16 | UInt64(offset)))
            }
        }
        sortIfNeeded()
    }

    /// Squashfs keeps entries in byte order; a listing that is not is sorted, so lookups still work.
    private mutating func sortIfNeeded() {
        guard entries.count > 1 else { return }
        let names = self.names
        func less(_ a: Entry, _ b: Entry) -> Bool {
            names.withUnsafeBytes { pool in
                NameOrder.compare(
                    UnsafeRawBufferPointer(rebasing: pool[Int(a.nameStart)..<Int(a.nameStart + a.nameLength)]),
                    UnsafeRawBufferPointer(rebasing: pool[Int(b.nameStart)..<Int(b.nameStart + b.nameLength)])) < 0
            }
        }
        for position in entries.indices.dropFirst() where !less(entries[position - 1], entries[position]) {
            entries.sort(by: less)
            return
        }
    }

    /// Names that would let an entry escape or confuse a path walk are never served.
    static func unsafeNameProblem(_ name: UnsafeRawBufferPointer) -> String? {
        if name.isEmpty { return "empty name" }
        if name.count == 1 && name[0] == UInt8(ascii: ".") { return "name is '.'" }
        if name.count == 2 && name[0] == UInt8(ascii: ".") && name[1] == UInt8(ascii: ".") { return "name is '..'" }
        if name.contains(UInt8(ascii: "/")) { return "name contains '/'" }
        if name.contains(0) { return "name contains a NUL byte" }
        return nil
    }
}

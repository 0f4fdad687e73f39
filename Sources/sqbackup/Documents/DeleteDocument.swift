/// What `delete --json` prints: the ids deleted, in the order given.
struct DeleteDocument: Encodable {
    var deleted: [String]
}

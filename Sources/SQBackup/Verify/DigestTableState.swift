import ImageDigests

/// What became of a backup's block digest table when a verify loaded it.
enum DigestTableState: Sendable {
    /// meta.json records no table: the backup predates tables or was written by the vendor's SDK.
    case absent
    /// The table is missing, differs from its anchor in meta.json, or does not decode.
    case damaged(String)
    case intact(BlockDigestTable)

    var intact: BlockDigestTable? {
        if case .intact(let table) = self { return table }
        return nil
    }

    /// Whether the table was usable; nil when there is none.
    var isOk: Bool? {
        switch self {
        case .absent: nil
        case .damaged: false
        case .intact: true
        }
    }
}

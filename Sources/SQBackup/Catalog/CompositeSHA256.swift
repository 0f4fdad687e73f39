import SquashWriter

/// The hash of an image uploaded in parts (`BackupMetadata.compositeSha256`), named here so that
/// users of the facade need not import the image writer.
public typealias CompositeSHA256 = SquashWriter.CompositeSHA256

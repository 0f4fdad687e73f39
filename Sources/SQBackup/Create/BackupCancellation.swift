import Storage

/// A flag a signal handler sets to stop a create: the build stops between files, uploads stop
/// between parts, and what was uploaded is removed. The store layer's flag, under the facade's name.
public typealias BackupCancellation = CancellationFlag

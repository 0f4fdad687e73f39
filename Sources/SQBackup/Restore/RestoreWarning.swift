import Restore

/// An entry a restore skipped or changed for safety, named here so that users of the facade need
/// not import the restorer.
public typealias RestoreWarning = Restore.RestoreWarning

/// What `restoreBackup` returns (with `notRestored` and `isPartial`), under the facade's name.
public typealias RestoreResult = Restore.RestoreResult

/// The running totals a restore reports to its progress callback, under the facade's name.
public typealias RestoreProgress = Restore.RestoreProgress

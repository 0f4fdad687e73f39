import SquashWriter

/// Something a create worked around while building the image (the backup is still valid): the
/// image writer's warning, named here so that users of the facade need not import the writer.
public typealias CreateWarning = BuildWarning

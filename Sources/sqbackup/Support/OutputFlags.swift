import ArgumentParser

/// The output flags every command takes: the form (text or JSON) and the amount (quiet, verbose).
struct OutputFlags: ParsableArguments {
    @Flag(
        name: .long,
        help: "Print the result as one JSON document on stdout; errors and warnings become JSON lines on stderr.")
    var json = false

    @Flag(name: [.short, .long], help: "Print only errors and the output asked for (e.g. the id from create).")
    var quiet = false

    @Flag(name: [.short, .long], help: "Print debug logging and details (requests, timings) on stderr.")
    var verbose = false

    func validate() throws {
        if quiet && verbose { throw ValidationError("--quiet and --verbose contradict each other; choose one") }
    }

    var mode: OutputMode { OutputMode(json: json, quiet: quiet, verbose: verbose) }
}

import ArgumentParser

/// `sqbackup exit-codes` (hidden): the exit-status table, as the README shows it or as JSON.
struct ExitCodesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exit-codes", abstract: "Print the exit-status table (Markdown for the README, or JSON).",
        shouldDisplay: false)

    @OptionGroup var outputFlags: OutputFlags

    /// One status as `--json` prints it.
    private struct Entry: Encodable {
        var exitStatus: Int32
        var code: String
        var meaning: String
    }

    func run() throws {
        Console.start(outputFlags)
        try CommandSupport.reporting {
            if outputFlags.json {
                try Console.document(
                    ExitStatus.all.map { Entry(exitStatus: $0.value, code: $0.code, meaning: $0.meaning) })
            } else {
                Console.result(ExitStatus.markdownTable)
            }
        }
    }
}

/// How a command prints: set once when it starts (`Console.start`), read by every printing helper.
struct OutputMode: Sendable {
    var json = false
    var quiet = false
    var verbose = false

    /// Whether a progress line may be drawn (it never is under --json or --quiet).
    var allowsProgress: Bool { !json && !quiet }
}

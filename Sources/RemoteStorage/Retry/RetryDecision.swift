/// What to do after one attempt of a request: keep its outcome, or try again.
enum RetryDecision: Equatable, Sendable {
    /// The outcome stands: a success, or a failure that another attempt would not change.
    case final
    /// Another attempt may succeed; wait at least `retryAfter` seconds when the server asked.
    case retry(retryAfter: Double?)

    var isRetry: Bool {
        if case .retry = self { return true }
        return false
    }
}

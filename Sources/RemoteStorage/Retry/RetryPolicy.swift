import Foundation

/// Exponential backoff with full jitter: attempt n waits a random time in `0...min(max, base·2ⁿ)`.
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 5, baseDelay: Double = 0.2, maxDelay: Double = 8) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The default for store requests.
    public static let standard = RetryPolicy()

    /// Seconds to wait before attempt `attempt + 1` (attempt counts from 1); a server's
    /// `Retry-After` raises the floor, bounded by `maxDelay`.
    public func delay(afterAttempt attempt: Int, retryAfter: Double? = nil) -> Double {
        let ceiling = min(maxDelay, baseDelay * pow(2, Double(attempt - 1)))
        let jittered = Double.random(in: 0...max(ceiling, 0))
        guard let retryAfter else { return jittered }
        return min(maxDelay, max(jittered, retryAfter))
    }

    func sleep(afterAttempt attempt: Int, retryAfter: Double? = nil) {
        let seconds = delay(afterAttempt: attempt, retryAfter: retryAfter)
        if seconds > 0 { Thread.sleep(forTimeInterval: seconds) }
    }
}

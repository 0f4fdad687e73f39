import Dispatch

/// Reads a run's counters five times a second on a timer of its own and hands them to the
/// caller's callback, so the copy threads pay nothing but relaxed atomic adds for progress.
final class RestoreProgressSampler {
    private let queue = DispatchQueue(label: "sqbackup.restore.progress")
    private let timer: any DispatchSourceTimer
    private let report: @Sendable (RestoreProgress) -> Void
    private let sample: @Sendable (_ elapsed: Double, _ finished: Bool) -> RestoreProgress
    private let started = ContinuousClock.now

    init(
        report: @escaping @Sendable (RestoreProgress) -> Void,
        sample: @escaping @Sendable (_ elapsed: Double, _ finished: Bool) -> RestoreProgress
    ) {
        self.report = report
        self.sample = sample
        timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + .milliseconds(200), repeating: .milliseconds(200))
        timer.setEventHandler { [report, sample, started] in
            report(sample((ContinuousClock.now - started) / .seconds(1), false))
        }
        timer.resume()
    }

    /// Stops the timer; after a restore that completed, reports once more with `finished` set.
    /// The last report runs on the timer's queue, so it never races a tick still running.
    func stop(finished: Bool) {
        timer.cancel()
        queue.sync {
            guard finished else { return }
            report(sample((ContinuousClock.now - started) / .seconds(1), true))
        }
    }
}

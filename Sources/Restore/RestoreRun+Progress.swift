extension RestoreRun {
    /// A sampler of this run's counters when the options ask for progress.
    func startProgressSampler() -> RestoreProgressSampler? {
        guard let report = options.progress else { return nil }
        return RestoreProgressSampler(report: report) { [self] elapsed, finished in
            progress(elapsed: elapsed, finished: finished)
        }
    }

    /// Records how much the copy phase has to do, once the walk has planned it.
    func publishTotals(_ plan: RestorePlan) {
        guard options.progress != nil else { return }
        let bytes = plan.copies.reduce(UInt64(0)) { $0 + (image.attributes(of: $1.node)?.size ?? 0) }
        filesToCopy.store(plan.copies.count, ordering: .relaxed)
        bytesToCopy.store(Int(clamping: bytes), ordering: .relaxed)
        planned.store(true, ordering: .relaxed)
    }

    /// The counters now; relaxed loads, so the totals may lag a file behind, which a display allows.
    func progress(elapsed: Double, finished: Bool) -> RestoreProgress {
        RestoreProgress(
            filesDone: filesCopied.load(ordering: .relaxed), filesTotal: filesToCopy.load(ordering: .relaxed),
            bytesWritten: UInt64(bytesWritten.load(ordering: .relaxed)),
            bytesTotal: UInt64(bytesToCopy.load(ordering: .relaxed)), elapsed: elapsed,
            planning: !planned.load(ordering: .relaxed), finished: finished)
    }
}

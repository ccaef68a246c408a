import API
import AppSupport
import Core
import Domain
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Keeps scores current in the background: rescores the leads whose score is not of the active criteria version
/// (after a criteria change; resumed after a restart, since it works from what is still stale), and sweeps the
/// decaying scores every `decayInterval` so that quiet hot leads cool down.
struct ScoringMaintenance: Service {
    let rescoring: Rescoring
    let decayInterval: Duration
    /// How often to look for stale scores between sweeps.
    let pollInterval: Duration
    let metrics: CalorMetrics
    let logger: Logger

    /// How often to look for stale leads although the criteria did not change (a scan of every lead): a safety net.
    let recheckInterval: Duration = .seconds(300)
    /// Scores saved a transaction at a time: each save holds SQLite's writer, and requests wait for it meanwhile
    /// (5,000 at a time held it for about 100 ms).
    let saveBatch = 1_000
    /// The decay sweep waits this many times each batch's time before the next: it has an hour to cool quiet leads,
    /// and at a server's start it swept every decaying lead at once while requests waited (the first 15 s of load on
    /// a 300,000-lead database ran at half the rate).
    static let sweepPause = 3
    /// Decaying scores saved a transaction at a time by the sweep: nearly every one moves its entry in the index by
    /// temperature and total, so 1,000 wrote about 1,300 pages in one commit (5 MB of WAL), which held the writer for
    /// tens of milliseconds while requests waited.
    static let sweepBatch = 250

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var nextSweep = ContinuousClock.now
            // The definition under which a pass last found nothing stale, and when: until it changes (a criteria
            // change, here or on another server) or a lead without a score appears (written by another process),
            // polls skip the scan, which on 300,000 leads took a core for a few hundred milliseconds every poll.
            var clean: (definition: ScoreDefinition, at: ContinuousClock.Instant)?
            while !Task.isCancelled {
                do {
                    let staleness = try await rescoring.staleness()
                    let nothingStale = clean.map {
                        $0.definition == staleness.definition && staleness.unscored == 0
                            && ContinuousClock.now - $0.at < recheckInterval
                    }
                    if nothingStale != true {
                        let stale = try await rescoring.rescoreStale(
                            at: Date(),
                            batchSize: saveBatch,
                            progress: progress()
                        )
                        if stale.leads == 0 {
                            metrics.rescoreProgress(done: 0, total: 0, newlyDone: 0)
                            clean = staleness.definition.map { ($0, ContinuousClock.now) }
                        } else {
                            clean = nil
                        }
                    }
                    if ContinuousClock.now >= nextSweep {
                        _ = try await rescoring.rescoreDecaying(
                            at: Date(),
                            batchSize: Self.sweepBatch,
                            progress: progress(),
                            pacing: { batchTime in try await Task.sleep(for: batchTime * Self.sweepPause) }
                        )
                        nextSweep = ContinuousClock.now + decayInterval
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("background rescoring failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: pollInterval)
            }
        }
    }

    /// Reports a pass's progress to the metrics.
    private func progress() -> @Sendable (RescoreProgress) -> Void {
        let reported = Mutex(0)
        let metrics = self.metrics
        return { progress in
            let newlyDone = reported.withLock { last in
                defer { last = progress.done }
                return progress.done - last
            }
            metrics.rescoreProgress(done: progress.done, total: progress.total, newlyDone: newlyDone)
            // Each part is freed on another thread than the one that read it: without this, glibc's per-thread arenas
            // keep it, and the server's memory grows by a rescore's worth.
            Memory.releaseFree()
        }
    }
}

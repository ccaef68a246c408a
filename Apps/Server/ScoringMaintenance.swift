import API
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

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var nextSweep = ContinuousClock.now
            while !Task.isCancelled {
                do {
                    let stale = try await rescoring.rescoreStale(at: Date(), progress: progress())
                    if stale.leads == 0 { metrics.rescoreProgress(done: 0, total: 0, newlyDone: 0) }
                    if ContinuousClock.now >= nextSweep {
                        _ = try await rescoring.rescoreDecaying(at: Date(), progress: progress())
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
        }
    }
}

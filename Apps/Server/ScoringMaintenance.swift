import Core
import Domain
import Foundation
import Logging
import ServiceLifecycle

/// Keeps scores current in the background: rescores the leads whose score is not of the active criteria version
/// (after a criteria change; resumed after a restart, since it works from what is still stale), and sweeps the
/// decaying scores every `decayInterval` so that quiet hot leads cool down.
struct ScoringMaintenance: Service {
    let rescoring: Rescoring
    let decayInterval: Duration
    /// How often to look for stale scores between sweeps.
    let pollInterval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var nextSweep = ContinuousClock.now
            while !Task.isCancelled {
                do {
                    _ = try await rescoring.rescoreStale(at: Date())
                    if ContinuousClock.now >= nextSweep {
                        _ = try await rescoring.rescoreDecaying(at: Date())
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
}

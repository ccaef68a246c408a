import Core
import Foundation
import Logging
import ServiceLifecycle

/// Deletes what the retention policy no longer keeps, every `interval` (the first pass after a minute, or after the
/// interval when shorter), until the server stops.
struct RetentionService: Service {
    let retention: Retention
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            try? await Task.sleep(for: min(.seconds(60), interval))
            while !Task.isCancelled {
                do {
                    let summary = try await retention.sweep(at: Date())
                    if summary.events + summary.deliveries > 0 {
                        logger.info(
                            "retention sweep",
                            metadata: [
                                "retention.events": "\(summary.events)",
                                "retention.deliveries": "\(summary.deliveries)",
                            ]
                        )
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("retention sweep failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}

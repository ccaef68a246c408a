import Core
public import Domain
public import Prometheus
import Synchronization

/// Calor's Prometheus metrics, served at `/metrics`.
///
/// | metric | labels | what |
/// |---|---|---|
/// | `calor_http_requests_total` | `method`, `route` (the template, never an id), `status` | requests answered |
/// | `calor_http_request_duration_seconds` | `method`, `route` | time to answer |
/// | `calor_events_total` | `outcome` (`accepted`, `duplicate`, `rejected`, `suppressed`) | ingested items |
/// | `calor_events_flagged_total` | `reason` | new events stored flagged as a bot's or a mail scanner's |
/// | `calor_rescore_leads_total` | — | leads rescored in the background |
/// | `calor_rescore_pending_leads` | — | leads still to rescore under the active criteria (at the last pass) |
public final class CalorMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let rescored: Counter
    private let pending: Gauge
    private let pendingValue = Mutex<Int?>(nil)

    static let durationBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .seconds(2.5), .seconds(5), .seconds(10),
    ]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        rescored = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "calor",
                metricName: "rescore_leads",
                unitName: "total",
                helpText: "Leads rescored in the background."
            )
        )
        pending = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "calor",
                metricName: "rescore_pending",
                unitName: "leads",
                helpText: "Leads still to rescore under the active criteria, at the last background pass."
            )
        )
    }

    func request(method: String, route: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "calor",
                subsystem: "http",
                metricName: "requests",
                unitName: "total",
                helpText: "HTTP requests answered, by route template and status."
            ),
            labels: [("method", method), ("route", route), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "calor",
                subsystem: "http",
                metricName: "request_duration",
                unitName: "seconds",
                helpText: "Time to answer HTTP requests, by route template."
            ),
            labels: [("method", method), ("route", route)],
            buckets: Self.durationBuckets
        ).record(duration)
    }

    func events(_ outcomes: [IngestOutcome]) {
        var counts = ["accepted": 0, "duplicate": 0, "rejected": 0]
        for outcome in outcomes {
            switch outcome {
            case .accepted: counts["accepted", default: 0] += 1
            case .duplicate: counts["duplicate", default: 0] += 1
            case .rejected: counts["rejected", default: 0] += 1
            case .suppressed: counts["suppressed", default: 0] += 1
            }
        }
        for (outcome, count) in counts where count > 0 {
            registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "calor",
                    metricName: "events",
                    unitName: "total",
                    helpText: "Ingested events and Segment messages, by outcome."
                ),
                labels: [("outcome", outcome)]
            ).increment(by: Int64(count))
        }
    }

    /// New events stored flagged, by reason (`bot_user_agent`, `bot_ip`, `scanner_click_after_send`,
    /// `scanner_link_burst`).
    public func flagged(_ counts: [EventFlag: Int]) {
        for (flag, count) in counts {
            registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "calor",
                    subsystem: "events",
                    metricName: "flagged",
                    unitName: "total",
                    helpText:
                        "New events stored flagged as a bot's or a mail scanner's (they score nothing), by reason."
                ),
                labels: [("reason", flag.rawValue)]
            ).increment(by: Int64(count))
        }
    }

    /// A webhook attempt's result: counted by outcome (`delivered`, `retry`, `failed`), and whether it disabled its
    /// endpoint.
    public func webhookAttempt(_ result: DeliveryResult) {
        let outcome =
            switch result.next {
            case .delivered: "delivered"
            case .retry: "retry"
            case .failed: "failed"
            }
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "calor",
                subsystem: "webhook",
                metricName: "attempts",
                unitName: "total",
                helpText: "Webhook delivery attempts, by what they led to."
            ),
            labels: [("outcome", outcome)]
        ).increment()
        if case .disable = result.endpoint {
            registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "calor",
                    subsystem: "webhook",
                    metricName: "disabling_attempts",
                    unitName: "total",
                    helpText:
                        "Webhook attempts that disabled their endpoint (a 410, days of failures): attempts in flight together count each."
                )
            ).increment()
        }
    }

    /// Background rescoring progress: `done` of `total` leads of the current pass.
    public func rescoreProgress(done: Int, total: Int?, newlyDone: Int) {
        rescored.increment(by: Int64(newlyDone))
        if let total {
            let left = max(0, total - done)
            pending.set(Double(left))
            pendingValue.withLock { $0 = left }
        }
    }

    /// Leads still to rescore at the last background pass; `nil` before the first.
    public var pendingRescores: Int? { pendingValue.withLock { $0 } }
}

public import Domain
public import Foundation
public import Logging
import Synchronization

/// Sends a request and tells what came back: the port the HTTP client is behind (the server uses AsyncHTTPClient;
/// tests may use anything). Never throws: whatever went wrong is the response's `error`.
public protocol WebhookTransport: Sendable {
    /// Sends the request as a POST, following no redirect, giving up after `timeout`.
    func send(_ request: OutboundRequest, timeout: Duration) async -> TransportResponse
}

/// What an attempt's request got back.
public struct TransportResponse: Sendable, Hashable {
    /// `nil` when no response came (refused, timed out, reset).
    public var statusCode: Int?
    /// The response's `Retry-After`, when it had one.
    public var retryAfter: Duration?
    /// What went wrong before a response came.
    public var error: String?

    public init(statusCode: Int?, retryAfter: Duration? = nil, error: String? = nil) {
        self.statusCode = statusCode
        self.retryAfter = retryAfter
        self.error = error
    }

    /// Parses a `Retry-After` value: seconds, or an HTTP date (relative to `now`). `nil` when it is neither.
    public static func retryAfter(_ value: String, now: Date) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return .milliseconds(Int64(max(0, date.timeIntervalSince(now)) * 1_000))
    }
}

/// How deliveries are made: `webhooks.*` in the server's configuration (docs/webhooks.md).
public struct DeliverySettings: Sendable, Hashable {
    /// The waits before each retry of a failed attempt; the first attempt is made at once. A message is attempted
    /// once more than the schedule is long, then given up.
    public var retrySchedule: [Duration] = [
        .seconds(5), .seconds(5 * 60), .seconds(30 * 60), .seconds(2 * 3_600), .seconds(5 * 3_600),
        .seconds(10 * 3_600), .seconds(10 * 3_600),
    ]
    /// How long an attempt may take.
    public var timeout: Duration = .seconds(15)
    public var allowPrivateTargets = false
    /// Attempts in flight at once per endpoint (per server).
    public var maxInFlight = 16
    /// How often the worker looks for due deliveries when it has nothing in hand.
    public var pollInterval: Duration = .milliseconds(250)
    /// An endpoint whose every attempt has failed this long is disabled.
    public var disableAfter: Duration = .seconds(5 * 86_400)
    /// How long the previous secret still signs after a rotation.
    public var rotationOverlap: Duration = .seconds(86_400)
    /// A retry waits up to this fraction longer than the schedule says, at random: receivers that failed together
    /// are not retried together.
    public var jitter = 0.1

    public init() {}

    /// Parses `0s`, `500ms`, `5s`, `30m`, `2h`, `5d`: seconds, or `nil` for anything else (negative included, and
    /// anything longer than ``longestDuration``).
    public static func durationSeconds(_ text: String) -> Double? {
        let text = text.trimmingCharacters(in: .whitespaces)
        let units: [(suffix: String, seconds: Double)] = [
            ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3_600), ("d", 86_400), ("w", 604_800),
        ]
        for unit in units where text.hasSuffix(unit.suffix) {
            guard let value = Double(text.dropLast(unit.suffix.count)), value.isFinite, value >= 0,
                value * unit.seconds <= longestDuration
            else { return nil }
            return value * unit.seconds
        }
        return nil
    }

    /// The longest duration a setting may have: a hundred years (longer ones are typos, and would not fit the
    /// clock's arithmetic).
    public static let longestDuration: Double = 100 * 365.25 * 86_400

    /// How long a claim holds a delivery: an attempt's longest time, and a margin. A worker that dies mid-attempt
    /// leaves the delivery to be claimed again once its lease runs out.
    public var lease: Duration { timeout + .seconds(5) }
}

/// Delivers the outbox's messages inside calor-server, off the request path.
///
/// The worker polls for endpoints with due deliveries and runs one lane per endpoint: the lane claims deliveries
/// (leased, so that no other worker attempts them meanwhile), attempts up to ``DeliverySettings/maxInFlight`` at once,
/// and records each result with the retry it leads to. A lead's later message to an endpoint is not claimed while an
/// earlier one is pending (failing, or in flight), so each endpoint gets each lead's messages in order.
public final class DeliveryWorker: Sendable {
    let storage: any Storage
    let notifiers: [String: any Notifier]
    let transport: any WebhookTransport
    let settings: DeliverySettings
    let policy: TargetPolicy
    let clock: WallClock
    let random: RandomSource
    let logger: Logger
    /// Told of every attempt's result (metrics).
    let observe: @Sendable (DeliveryResult) -> Void
    /// Who holds the leases this worker takes.
    public let owner: String
    private let lanes = Mutex<Set<WebhookEndpoint.ID>>([])

    public init(
        storage: any Storage,
        notifiers: [any Notifier],
        transport: any WebhookTransport,
        settings: DeliverySettings,
        policy: TargetPolicy? = nil,
        clock: WallClock = .system,
        random: RandomSource = .system,
        logger: Logger,
        observe: @escaping @Sendable (DeliveryResult) -> Void = { _ in }
    ) {
        self.observe = observe
        self.storage = storage
        self.notifiers = Dictionary(notifiers.map { ($0.kind, $0) }) { first, _ in first }
        self.transport = transport
        self.settings = settings
        self.policy = policy ?? TargetPolicy(allowPrivateTargets: settings.allowPrivateTargets)
        self.clock = clock
        self.random = random
        self.logger = logger
        owner = "worker-" + random.uuid().uuidString.lowercased()
    }

    /// Delivers until cancelled. Attempts in flight when it is cancelled are not recorded: their leases run out and
    /// they are attempted again (delivery is at least once).
    public func run() async {
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                do {
                    for endpoint in try await storage.outbox.endpointsWithDueDeliveries(at: clock.now())
                    where lanes.withLock({ $0.insert(endpoint).inserted }) {
                        group.addTask {
                            await self.lane(endpoint)
                            _ = self.lanes.withLock { $0.remove(endpoint) }
                        }
                    }
                } catch {
                    logger.error("webhook deliveries could not be read", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: settings.pollInterval)
            }
        }
    }

    /// Delivers the endpoint's due deliveries until none is left to claim.
    func lane(_ endpoint: WebhookEndpoint.ID) async {
        let maxInFlight = max(1, settings.maxInFlight)
        await withTaskGroup(of: DeliveryResult?.self) { group in
            var inFlight = 0
            var done: [DeliveryResult] = []
            while true {
                if !Task.isCancelled, inFlight <= maxInFlight / 2 {
                    // Results first: a lead's next message can be claimed once its previous one is recorded.
                    await record(&done)
                    let now = clock.now()
                    do {
                        let claimed = try await storage.outbox.claim(
                            endpoint: endpoint,
                            limit: maxInFlight - inFlight,
                            at: now,
                            owner: owner,
                            leasedUntil: now.addingTimeInterval(settings.lease.seconds)
                        )
                        for delivery in claimed { group.addTask { await self.attempt(delivery) } }
                        inFlight += claimed.count
                    } catch {
                        logger.error("webhook deliveries could not be claimed", metadata: ["error": "\(error)"])
                    }
                }
                guard inFlight > 0, let result = await group.next() else { break }
                inFlight -= 1
                if let result { done.append(result) }
                if done.count >= 64 { await record(&done) }
            }
            await record(&done)
        }
    }

    private func record(_ results: inout [DeliveryResult]) async {
        guard !results.isEmpty else { return }
        do {
            try await storage.outbox.finish(results)
        } catch {
            // Not recorded: the leases run out and the deliveries are attempted again.
            logger.error("webhook delivery results could not be recorded", metadata: ["error": "\(error)"])
        }
        results.removeAll(keepingCapacity: true)
    }

    /// One attempt, and what it leads to; `nil` when the worker was cancelled meanwhile.
    func attempt(_ claimed: ClaimedDelivery) async -> DeliveryResult? {
        let startedAt = clock.now()
        let started = ContinuousClock.now
        var response: TransportResponse
        do {
            try await policy.check(claimed.endpoint.url)
            guard let notifier = notifiers[claimed.endpoint.kind] else {
                throw WebhookError.invalid("no notifier sends to endpoints of kind '\(claimed.endpoint.kind)'")
            }
            let request = try notifier.request(for: claimed.message, to: claimed.endpoint, at: startedAt)
            response = await transport.send(request, timeout: settings.timeout)
        } catch {
            response = TransportResponse(statusCode: nil, error: "\(error)")
        }
        guard !Task.isCancelled else { return nil }
        let elapsed = ContinuousClock.now - started
        var generator = random.generator
        let result = Self.result(
            of: claimed,
            response: response,
            at: startedAt,
            duration: elapsed,
            owner: owner,
            settings: settings,
            jitter: Double.random(in: 0...1, using: &generator)
        )
        observe(result)
        if case .disable(let reason) = result.endpoint {
            logger.warning(
                "webhook endpoint disabled",
                metadata: ["webhook.endpoint": "\(claimed.endpoint.id)", "reason": "\(reason)"]
            )
        }
        return result
    }

    /// What a response leads to (SPEC §8): 2xx delivers; a 410 disables the endpoint; anything else is retried on
    /// the schedule (no sooner than a `Retry-After` asks) until it runs out, and an endpoint failing every attempt for
    /// ``DeliverySettings/disableAfter`` is disabled. `jitter` is a number in 0...1.
    public static func result(
        of claimed: ClaimedDelivery,
        response: TransportResponse,
        at time: Date,
        duration: Duration,
        owner: String,
        settings: DeliverySettings,
        jitter: Double
    ) -> DeliveryResult {
        let milliseconds = Int(duration.seconds * 1_000)
        let endpoint = claimed.endpoint
        if let status = response.statusCode, (200..<300).contains(status), response.error == nil {
            return DeliveryResult(
                deliveryID: claimed.delivery.id,
                endpointID: endpoint.id,
                owner: owner,
                attempt: DeliveryAttempt(at: time, statusCode: status, durationMilliseconds: milliseconds, error: nil),
                next: .delivered,
                endpoint: endpoint.failingSince == nil ? .none : .healthy
            )
        }
        let error = response.error ?? "HTTP \(response.statusCode ?? 0)"
        let attempts = claimed.delivery.attempts + 1
        let next: DeliveryResult.Next
        if attempts > settings.retrySchedule.count {
            next = .failed
        } else {
            var wait = settings.retrySchedule[attempts - 1].seconds * (1 + settings.jitter * min(max(jitter, 0), 1))
            if let retryAfter = response.retryAfter {
                // Honoured, within a day.
                wait = max(wait, min(retryAfter.seconds, 86_400))
            }
            next = .retry(at: time.addingTimeInterval(wait))
        }
        let change: DeliveryResult.EndpointChange
        if response.statusCode == 410 {
            change = .disable(reason: "the endpoint answered 410 Gone at \(WireFormat.time(time))")
        } else if let since = endpoint.failingSince, time.timeIntervalSince(since) >= settings.disableAfter.seconds {
            change = .disable(
                reason: "every attempt has failed since \(WireFormat.time(since)) (last: \(error))"
            )
        } else {
            change = .failing(since: time)
        }
        return DeliveryResult(
            deliveryID: claimed.delivery.id,
            endpointID: endpoint.id,
            owner: owner,
            attempt: DeliveryAttempt(
                at: time,
                statusCode: response.statusCode,
                durationMilliseconds: milliseconds,
                error: error
            ),
            next: next,
            endpoint: change
        )
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

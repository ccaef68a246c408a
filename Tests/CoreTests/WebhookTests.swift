import Core
import Domain
import Foundation
import Logging
import Synchronization
import Testing

@Suite("Standard Webhooks signing")
struct SigningTests {
    @Test(
        "the published test vectors",
        arguments: [
            (
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", Int64(1_614_265_330),
                #"{"test": 2432232314}"#, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
            ),
            (
                "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", Int64(1_649_367_553),
                #"{"email":"test@example.com","username":"test_user"}"#,
                "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
            ),
        ]
    )
    func vectors(secret: String, id: String, timestamp: Int64, payload: String, expected: String) throws {
        #expect(
            try StandardWebhooks.signature(secret: secret, id: id, timestamp: timestamp, body: Array(payload.utf8))
                == expected
        )
    }

    @Test("a new secret is whsec_ and 32 random bytes; a secret that is not base64 is refused")
    func secrets() throws {
        let secret = StandardWebhooks.newSecret(random: .seeded(7))
        #expect(secret.hasPrefix("whsec_"))
        #expect(Data(base64Encoded: String(secret.dropFirst(6)))?.count == 32)
        #expect(secret != StandardWebhooks.newSecret(random: .seeded(8)))
        #expect(throws: WebhookError.self) {
            try StandardWebhooks.signature(secret: "whsec_not base64!", id: "msg_1", timestamp: 1, body: [])
        }
    }

    @Test("a request carries both signatures while a rotated secret overlaps, then one")
    func rotation() throws {
        let time = Date(timeIntervalSince1970: 1_800_000_000)
        let endpoint = WebhookEndpoint(
            id: WebhookEndpoint.ID(UUID()),
            url: "https://example.com/hook",
            kind: "standard",
            filters: [MessageFilter(type: .temperatureChanged)],
            description: nil,
            secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            previousSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            previousSecretExpiresAt: time.addingTimeInterval(60),
            createdAt: time,
            updatedAt: time
        )
        let message = NewOutboxMessage(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
            type: .temperatureChanged,
            leadID: nil,
            target: "hot",
            payload: Array(#"{"test": 2432232314}"#.utf8),
            createdAt: time
        )
        let during = try StandardWebhooksNotifier().request(for: message, to: endpoint, at: time)
        let signatures = during.header("webhook-signature")?.split(separator: " ").map(String.init) ?? []
        #expect(signatures.count == 2)
        #expect(during.header("webhook-id") == "msg_p5jXN8AQM9LWM0D4loKWxJek")
        #expect(during.header("webhook-timestamp") == "1800000000")
        #expect(during.body == message.payload)
        let after = try StandardWebhooksNotifier().request(for: message, to: endpoint, at: time.addingTimeInterval(61))
        #expect(after.header("webhook-signature")?.split(separator: " ").count == 1)
    }
}

@Suite("Webhook targets")
struct TargetPolicyTests {
    @Test(
        "addresses that are not public unicast are refused",
        arguments: [
            ("127.0.0.1", false), ("10.1.2.3", false), ("172.16.0.1", false), ("172.32.0.1", true),
            ("192.168.1.1", false), ("169.254.169.254", false), ("100.64.0.1", false), ("0.0.0.0", false),
            ("224.0.0.1", false), ("8.8.8.8", true), ("93.184.216.34", true), ("::1", false), ("::", false),
            ("fe80::1", false), ("fd00::1", false), ("::ffff:127.0.0.1", false), ("::ffff:8.8.8.8", true),
            ("2606:4700:4700::1111", true), ("2001:db8::1", false), ("ff02::1", false), ("64:ff9b::a00:1", false),
        ]
    )
    func addresses(text: String, isPublic: Bool) throws {
        let address = try #require(IPAddress(text))
        #expect(address.isPublic == isPublic, "\(text)")
    }

    @Test("URLs are checked for form, literal and resolved addresses, unless private targets are allowed")
    func policy() async throws {
        let strict = TargetPolicy(allowPrivateTargets: false) { host in
            host == "inside.example" ? [IPAddress("10.0.0.5")!] : [IPAddress("93.184.216.34")!]
        }
        try await strict.check("https://hooks.example.com/calor")
        for url in [
            "http://127.0.0.1:8080/hook", "http://[::1]/hook", "http://localhost/hook", "http://inside.example/x",
            "http://169.254.169.254/latest/meta-data", "http://metadata.google.internal/",
        ] {
            await #expect(throws: WebhookError.self, "\(url)") { try await strict.check(url) }
            do {
                try await strict.check(url)
            } catch WebhookError.forbiddenTarget(let detail) {
                #expect(detail.contains("allow_private_targets"))
            }
        }
        for url in ["ftp://example.com/x", "hooks.example.com", "https://user:pw@example.com/", "https:///x"] {
            await #expect(throws: WebhookError.self, "\(url)") { try await strict.check(url) }
        }
        let relaxed = TargetPolicy(allowPrivateTargets: true) { _ in [] }
        try await relaxed.check("http://127.0.0.1:8080/hook")
        await #expect(throws: WebhookError.self) { try await relaxed.check("file:///etc/passwd") }
    }
}

@Suite("Delivery policy")
struct DeliveryPolicyTests {
    static let time = Date(timeIntervalSince1970: 1_800_000_000)

    static func claimed(attempts: Int, failingSince: Date? = nil) -> ClaimedDelivery {
        let endpoint = WebhookEndpoint(
            id: WebhookEndpoint.ID(UUID()),
            url: "https://example.com/hook",
            kind: "standard",
            filters: [MessageFilter(type: .temperatureChanged)],
            description: nil,
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            failingSince: failingSince,
            createdAt: time,
            updatedAt: time
        )
        let message = NewOutboxMessage(
            id: "msg_1",
            type: .temperatureChanged,
            leadID: nil,
            target: "hot",
            payload: [],
            createdAt: time
        )
        return ClaimedDelivery(
            delivery: WebhookDelivery(
                id: WebhookDelivery.ID(1),
                endpointID: endpoint.id,
                messageID: "msg_1",
                type: .temperatureChanged,
                leadID: nil,
                status: .pending,
                attempts: attempts,
                nextAttemptAt: time,
                createdAt: time
            ),
            message: message,
            endpoint: endpoint,
            leasedUntil: time.addingTimeInterval(20)
        )
    }

    func result(
        _ claimed: ClaimedDelivery,
        _ response: TransportResponse,
        jitter: Double = 0,
        settings: DeliverySettings = DeliverySettings()
    ) -> DeliveryResult {
        DeliveryWorker.result(
            of: claimed,
            response: response,
            at: Self.time,
            duration: .milliseconds(42),
            owner: "w",
            settings: settings,
            jitter: jitter
        )
    }

    @Test("2xx delivers, and heals a failing endpoint")
    func success() {
        let healthy = result(Self.claimed(attempts: 0), TransportResponse(statusCode: 204))
        #expect(healthy.next == .delivered && healthy.endpoint == .none)
        #expect(healthy.attempt.durationMilliseconds == 42 && healthy.attempt.error == nil)
        let healed = result(Self.claimed(attempts: 3, failingSince: Self.time), TransportResponse(statusCode: 200))
        #expect(healed.endpoint == .healthy)
    }

    @Test("failures follow the schedule, with jitter and Retry-After, and give up after its last retry")
    func schedule() {
        let failure = TransportResponse(statusCode: 500)
        #expect(result(Self.claimed(attempts: 0), failure).next == .retry(at: Self.time.addingTimeInterval(5)))
        #expect(result(Self.claimed(attempts: 1), failure).next == .retry(at: Self.time.addingTimeInterval(300)))
        #expect(
            result(Self.claimed(attempts: 2), failure, jitter: 1).next
                == .retry(at: Self.time.addingTimeInterval(1_980))
        )
        #expect(result(Self.claimed(attempts: 6), failure).next == .retry(at: Self.time.addingTimeInterval(36_000)))
        #expect(result(Self.claimed(attempts: 7), failure).next == .failed)
        let busy = TransportResponse(statusCode: 429, retryAfter: .seconds(120))
        #expect(result(Self.claimed(attempts: 0), busy).next == .retry(at: Self.time.addingTimeInterval(120)))
        let refused = result(Self.claimed(attempts: 0), TransportResponse(statusCode: nil, error: "connection refused"))
        #expect(refused.attempt.error == "connection refused" && refused.endpoint == .failing(since: Self.time))
        var short = DeliverySettings()
        short.retrySchedule = [.seconds(1), .seconds(1), .seconds(2)]
        #expect(
            result(Self.claimed(attempts: 2), failure, settings: short).next
                == .retry(at: Self.time.addingTimeInterval(2))
        )
        #expect(result(Self.claimed(attempts: 3), failure, settings: short).next == .failed)
    }

    @Test("410 disables the endpoint; so do five days of failures")
    func disabling() {
        guard case .disable(let reason) = result(Self.claimed(attempts: 0), TransportResponse(statusCode: 410)).endpoint
        else {
            Issue.record("410 did not disable")
            return
        }
        #expect(reason.contains("410"))
        let recent = Self.claimed(attempts: 4, failingSince: Self.time.addingTimeInterval(-4 * 86_400))
        #expect(result(recent, TransportResponse(statusCode: 503)).endpoint == .failing(since: Self.time))
        let old = Self.claimed(attempts: 5, failingSince: Self.time.addingTimeInterval(-5 * 86_400))
        guard case .disable(let why) = result(old, TransportResponse(statusCode: 503)).endpoint else {
            Issue.record("five days of failures did not disable")
            return
        }
        #expect(why.contains("HTTP 503"))
    }

    @Test("Retry-After is read as seconds or as an HTTP date")
    func retryAfter() {
        #expect(TransportResponse.retryAfter("30", now: Self.time) == .seconds(30))
        // 1,800,000,000 is 2027-01-15T08:00:00Z.
        #expect(TransportResponse.retryAfter("Fri, 15 Jan 2027 08:00:30 GMT", now: Self.time) == .seconds(30))
        #expect(TransportResponse.retryAfter("soon", now: Self.time) == nil)
    }

    @Test("message filters parse, narrow and refuse")
    func filters() throws {
        let filters = try WebhookAdministration.filters(
            "lead.temperature_changed:hot, lead.stage_changed,criteria.activated"
        )
        #expect(
            filters.map(\.description) == ["lead.temperature_changed:hot", "lead.stage_changed", "criteria.activated"]
        )
        for bad in [
            "", "lead.created", "lead.temperature_changed:boiling", "criteria.activated:3", "lead.stage_changed:",
        ] {
            #expect(throws: WebhookError.self, "\(bad)") { try WebhookAdministration.filters(bad) }
        }
    }
}

/// An endpoint subscribed to every message, and the messages it was sent, oldest first.
extension World {
    func subscribeToEverything() async throws -> WebhookEndpoint {
        try await WebhookAdministration(storage: storage, policy: TargetPolicy(allowPrivateTargets: true))
            .create(
                url: "http://127.0.0.1:9/hook",
                events: MessageType.allCases.map { MessageFilter(type: $0) },
                kind: "standard",
                description: nil,
                actor: "test",
                at: World.now
            )
    }

    /// The envelopes of the endpoint's deliveries, oldest first.
    func envelopes(_ endpoint: WebhookEndpoint) async throws -> [JSONValue] {
        var envelopes: [JSONValue] = []
        for delivery in try await storage.outbox.deliveries(DeliveryQuery(endpointID: endpoint.id, limit: 500))
            .reversed()
        {
            let message = try #require(try await storage.outbox.message(delivery.messageID))
            envelopes.append(try JSONValue(parsing: message.payload))
        }
        return envelopes
    }
}

@Suite("Outbox messages from every writer")
struct OutboxWriterTests {
    func summary(_ envelope: JSONValue) -> String {
        let change = envelope["data"]?["change"]
        return [
            envelope["type"]?.stringValue, envelope["data"]?["lead"]?["email"]?.stringValue,
            change?["from"]?.stringValue ?? "null", change?["to"]?.stringValue, change?["reason"]?.stringValue,
        ].map { $0 ?? "-" }.joined(separator: " ")
    }

    @Test("ingestion, upserts, manual and automatic moves, criteria changes, rescoring and the decay sweep")
    func writers() async throws {
        let world = try await World()
        let endpoint = try await world.subscribeToEverything()
        _ = try await world.administration.apply(simpleCriteria, author: "ana", comment: "first", at: World.now)
        let cache = CriteriaCache()
        let ingestion = Ingestion(storage: world.storage, cache: cache, clock: .fixed(World.now))
        // A form fill (fit 30: warm), then a quote request (hot: the standard funnel moves it to mql).
        _ = try await ingestion.upsertLead(
            IncomingIdentity(
                email: EmailAddress("ana@acme.example"),
                externalID: nil,
                attributes: ["company_size": 150]
            )!,
            at: World.now
        )
        _ = try await ingestion.ingest(
            [
                .event(
                    IncomingEvent(
                        messageID: MessageID("q1"),
                        lead: .email(EmailAddress("ana@acme.example")!),
                        anonymousID: nil,
                        type: EventType("quote_requested"),
                        timestamp: World.now
                    )!
                )
            ],
            receivedAt: World.now
        )
        let lead = try #require(try await world.storage.leads.find(email: EmailAddress("ana@acme.example")!))
        _ = try await StageMoves(storage: world.storage, cache: cache)
            .move(lead.id, to: .sql, note: "called", value: 1_200, actor: "bo", at: World.now)
        var seen = try await world.envelopes(endpoint).map(summary)
        #expect(
            seen == [
                "criteria.activated - null - criteria.apply",
                "lead.temperature_changed ana@acme.example null warm attributes",
                "lead.stage_changed ana@acme.example subscriber lead rule",
                "lead.temperature_changed ana@acme.example warm hot events",
                "lead.stage_changed ana@acme.example lead mql rule",
                "lead.stage_changed ana@acme.example mql sql manual",
            ]
        )
        let envelopes = try await world.envelopes(endpoint)
        // The lead as the API shows it, at the time of the change.
        #expect(envelopes[3]["data"]?["lead"]?["score"]?["total"] == 70)
        #expect(envelopes[3]["data"]?["lead"]?["stage"] == "lead")
        #expect(envelopes[3]["data"]?["change"]?["score"] == 70)
        #expect(envelopes[5]["data"]?["change"]?["actor"] == "bo")
        #expect(envelopes[5]["data"]?["change"]?["value"] == 1_200)
        #expect(envelopes[5]["data"]?["lead"]?["stage"] == "sql")

        // A criteria change (hot needs 80 now) rescored in the background: ana cools to warm.
        let stricter = simpleCriteria.replacingOccurrences(of: "hot: 50", with: "hot: 80")
        _ = try await world.administration.apply(stricter, author: "ana", comment: "stricter", at: World.now)
        _ = try await world.rescoring.rescoreStale(at: World.now.addingTimeInterval(60))
        seen = try await world.envelopes(endpoint).map(summary)
        #expect(
            Array(seen.dropFirst(6)) == [
                "criteria.activated - null - criteria.apply",
                "lead.temperature_changed ana@acme.example hot warm criteria",
            ],
            "\(seen)"
        )
        // Thirty days on, the quote's 40 points have decayed to 2: 32 points, still warm, no message.
        _ = try await world.rescoring.rescoreDecaying(at: World.now.addingTimeInterval(30 * 86_400))
        #expect(try await world.envelopes(endpoint).count == 8)
        await world.close()
    }

    @Test("the decay sweep tells when a lead cools")
    func decay() async throws {
        let world = try await World()
        let endpoint = try await world.subscribeToEverything()
        _ = try await world.administration.apply(simpleCriteria, author: "t", comment: nil, at: World.now)
        let lead = try await world.lead("cy@acme.example")
        let cache = CriteriaCache()
        try await world.storage.unitOfWork { stores in
            _ = try await stores.events.append([world.event("quote_requested", lead: lead.id)])
            _ = try await Rescoring.rescoreLead(lead.id, in: stores, cache: cache, at: World.now)
        }
        _ = try await world.rescoring.rescoreDecaying(at: World.now.addingTimeInterval(15 * 86_400))
        // 40 points, warm; two weeks later, 10: cold.
        let changes = try await world.envelopes(endpoint).map(summary).filter { $0.hasPrefix("lead.temperature") }
        #expect(
            changes == [
                "lead.temperature_changed cy@acme.example null warm attributes",
                "lead.temperature_changed cy@acme.example warm cold decay",
            ]
        )
        await world.close()
    }
}

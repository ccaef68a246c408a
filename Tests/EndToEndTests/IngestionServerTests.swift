import Domain
import Foundation
import Scoring
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("calor-server ingestion, as a process", .serialized)
struct IngestionServerTests {
    /// Every route, the scope it needs, and a body that gets past authentication.
    static let routes: [(method: String, path: String, scope: APIKey.Scope, body: JSONValue?)] = {
        let lead = "00000000-0000-7000-8000-000000000000"
        var routes: [(String, String, APIKey.Scope, JSONValue?)] = [
            ("POST", "/v1/events", .ingest, ["type": "page_viewed", "anonymous_id": "matrix"]),
            ("PUT", "/v1/leads", .ingest, ["email": "matrix@x.example"]),
            ("GET", "/v1/leads", .read, nil),
            ("GET", "/v1/leads/\(lead)", .read, nil),
            ("GET", "/v1/leads/\(lead)/events", .read, nil),
            ("GET", "/v1/leads/\(lead)/stages", .read, nil),
            ("POST", "/v1/leads/\(lead)/stage", .sales, ["stage": "sql"]),
            ("GET", "/v1/reports/funnel", .read, nil),
            ("GET", "/v1/reports/temperatures?by=channel", .read, nil),
            ("GET", "/v1/criteria", .admin, nil),
            ("PUT", "/v1/criteria?dry_run=true", .admin, nil),
            ("GET", "/v1/criteria/history", .admin, nil),
            ("GET", "/v1/criteria/versions/1", .admin, nil),
        ]
        for call in ["track", "identify", "page", "screen", "group", "alias"] {
            routes.append(("POST", "/v1/\(call)", .ingest, ["anonymousId": "matrix", "event": "Matrix"]))
        }
        for path in ["/v1/batch", "/v1/import"] {
            routes.append(("POST", path, .ingest, ["batch": [["type": "page", "anonymousId": "matrix"]]]))
        }
        return routes
    }()

    @Test("auth matrix: every route × no key and a key of each scope", arguments: ServerHarness.Backend.allCases)
    func authMatrix(backend: ServerHarness.Backend) async throws {
        guard let harness = try await ServerHarness.start(backend) else { return }
        for route in Self.routes {
            for key in [nil] + APIKey.Scope.allCases {
                let answer = try await harness.send(route.method, route.path, key: key, json: route.body)
                let label = "\(route.method) \(route.path) with \(key?.rawValue ?? "no") key"
                switch key {
                case nil:
                    #expect(answer.status == 401, "\(label): \(answer.text)")
                    #expect(answer.json["type"] == "https://calor.dev/problems/unauthorized", "\(label)")
                case let scope?
                where scope == route.scope || scope == .admin || (scope == .sales && route.scope == .read):
                    #expect(![401, 403].contains(answer.status) && answer.status < 500, "\(label): \(answer.text)")
                default:
                    #expect(answer.status == 403, "\(label): \(answer.text)")
                }
            }
        }
        // A bad key is a 401 too, and a revoked key stops working within the second a server remembers a key for.
        let bad = try await harness.send(
            "GET",
            "/v1/leads",
            key: nil,
            headers: ["Authorization": "Bearer calor_read_x"]
        )
        #expect(bad.status == 401)
        let keys = try await ServerHarness.calor(["keys", "list", "--format", "json"], database: harness.database)
        let readKey = try #require(
            try JSONValue(parsing: keys).arrayValue.first { $0["name"] == "e2e-read" }?["id"]?.stringValue
        )
        try await ServerHarness.calor(["keys", "revoke", readKey], database: harness.database)
        var status = 0
        // Bounded: 40 tries, 100 ms apart.
        for _ in 0..<40 {
            status = try await harness.send("GET", "/v1/leads", key: .read).status
            if status == 401 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(status == 401, "refused once the second is over (KeyCacheTests checks the second itself)")
        try await harness.stop()
    }

    @Test(
        "a batch with good, bad and repeated items, identity merge, late events, 413 and malformed JSON",
        arguments: ServerHarness.Backend.allCases
    )
    func ingestionBehaviours(backend: ServerHarness.Backend) async throws {
        guard let harness = try await ServerHarness.start(backend) else { return }
        let now = Date()
        func time(daysAgo: Double) -> JSONValue {
            .string(now.addingTimeInterval(-daysAgo * 86_400).formatted(.iso8601))
        }
        // A visitor browses before anyone knows who they are.
        let early = try await harness.send(
            "POST",
            "/v1/events",
            key: .ingest,
            json: [
                "batch": [
                    [
                        "type": "page_viewed", "anonymous_id": "e2e-visitor", "message_id": "p1",
                        "timestamp": time(daysAgo: 1),
                    ],
                    [
                        "type": "page_viewed", "anonymous_id": "e2e-visitor", "message_id": "p2",
                        "timestamp": time(daysAgo: 1),
                    ],
                ]
            ]
        )
        #expect(early.status == 200)
        // Then a batch: a good event tying the visitor to a lead, a bad one, a repeat, and a late one.
        let batch = try await harness.send(
            "POST",
            "/v1/events",
            key: .ingest,
            json: [
                "batch": [
                    [
                        "type": "quote_requested", "lead": ["email": "e2e@x.example"], "anonymous_id": "e2e-visitor",
                        "message_id": "q1",
                    ],
                    ["type": "page_viewed", "lead": ["email": "not an email"]],
                    ["type": "quote_requested", "lead": ["email": "e2e@x.example"], "message_id": "q1"],
                    [
                        "type": "page_viewed", "lead": ["email": "e2e@x.example"], "message_id": "p0",
                        "timestamp": time(daysAgo: 5),
                    ],
                ]
            ]
        )
        #expect(batch.status == 200)
        #expect(
            batch.json["results"]?.arrayValue.map { $0["status"]?.stringValue ?? "" } == [
                "accepted", "rejected", "duplicate", "accepted",
            ]
        )
        let found = try await harness.send("GET", "/v1/leads?email=e2e@x.example", key: .read)
        let lead = try #require(found.json["data"]?.arrayValue.first)
        // quote 40 + three page views, the visitor's two included (2 each), the late one scored as if in order.
        #expect(lead["score"]?["total"] == 46)
        let id = try #require(lead["id"]?.stringValue)
        let timeline = try await harness.send("GET", "/v1/leads/\(id)/events", key: .read)
        // Newest first; the two page views have the same time, so the later stored comes first.
        #expect(
            timeline.json["data"]?.arrayValue.map { $0["message_id"]?.stringValue ?? "" } == ["q1", "p2", "p1", "p0"]
        )

        let malformed = try await harness.send("POST", "/v1/events", key: .ingest, body: Data("{\"type\": ".utf8))
        #expect(malformed.status == 400)
        #expect(malformed.json["type"] == "https://calor.dev/problems/malformed-json")
        let huge = Data(
            ("{\"type\":\"x\",\"anonymous_id\":\"v\",\"properties\":{\"blob\":\""
                + String(repeating: "x", count: 6_000_000) + "\"}}").utf8
        )
        let tooLarge = try await harness.send("POST", "/v1/events", key: .ingest, body: huge)
        #expect(tooLarge.status == 413)
        try await harness.stop()
    }

    @Test(
        "a crawler's events and a mail scanner's clicks are stored flagged, shown on the timeline and in /metrics, and score nothing",
        arguments: ServerHarness.Backend.allCases
    )
    func botsAndScanners(backend: ServerHarness.Backend) async throws {
        guard let harness = try await ServerHarness.start(backend) else { return }
        let googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
        let browser = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
        let lead: JSONValue = ["email": "bots@x.example"]
        let answer = try await harness.send(
            "POST",
            "/v1/events",
            key: .ingest,
            json: [
                "batch": [
                    [
                        "type": "page_viewed", "lead": lead, "message_id": "b1",
                        "context": ["userAgent": .string(googlebot)],
                    ],
                    [
                        "type": "page_viewed", "lead": lead, "message_id": "b2",
                        "context": ["user_agent": .string(browser)],
                    ],
                    [
                        "type": "email_sent", "lead": lead, "message_id": "b3", "timestamp": "2026-11-02T09:00:00Z",
                        "properties": ["email_id": "nl-7"],
                    ],
                    [
                        "type": "email_opened", "lead": lead, "message_id": "b4", "timestamp": "2026-11-02T09:00:03Z",
                        "properties": ["email_id": "nl-7"],
                    ],
                    [
                        "type": "email_clicked", "lead": lead, "message_id": "b5", "timestamp": "2026-11-02T09:00:03Z",
                        "properties": ["email_id": "nl-7", "link_url": "https://x.example/pricing"],
                    ],
                ]
            ]
        )
        #expect(answer.status == 200)
        // Segment's track call carries the user agent in its context too.
        let track = try await harness.send(
            "POST",
            "/v1/track",
            key: .ingest,
            json: [
                "userId": "seg-bot", "event": "Page Viewed", "messageId": "b6",
                "context": ["userAgent": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"],
            ]
        )
        #expect(track.status == 200)
        let found = try await harness.send("GET", "/v1/leads?email=bots@x.example", key: .read)
        let row = try #require(found.json["data"]?.arrayValue.first)
        // The person's page view (2) and the opening (1); not the crawler's view nor the scanner's click.
        #expect(row["score"]?["total"] == 3)
        let id = try #require(row["id"]?.stringValue)
        let timeline = try await harness.send("GET", "/v1/leads/\(id)/events", key: .read)
        var flags: [String: JSONValue] = [:]
        for event in timeline.json["data"]?.arrayValue ?? [] {
            flags[event["message_id"]?.stringValue ?? ""] = event["flagged"]
        }
        #expect(
            flags == [
                "b1": "bot_user_agent", "b2": .null, "b3": .null, "b4": .null, "b5": "scanner_click_after_send",
            ]
        )
        let metrics = try await harness.send("GET", "/metrics", key: nil)
        #expect(metrics.text.contains(#"calor_events_flagged_total{reason="bot_user_agent"} 2"#), "\(metrics.text)")
        #expect(metrics.text.contains(#"calor_events_flagged_total{reason="scanner_click_after_send"} 1"#))
        try await harness.stop()
    }

    @Test("events answered 2xx survive a kill -9 the next instant", arguments: ServerHarness.Backend.allCases)
    func durableAfterKill(backend: ServerHarness.Backend) async throws {
        guard let harness = try await ServerHarness.start(backend) else { return }
        let batch = JSONValue.object([
            "batch": .array(
                (0..<200).map { index in
                    [
                        "type": "email_opened", "lead": ["email": "durable@x.example"],
                        "message_id": .string("d\(index)"),
                    ]
                }
            )
        ])
        let answer = try await harness.send("POST", "/v1/events", key: .ingest, json: batch)
        #expect(answer.status == 200)
        try await harness.killAndRestart()
        let found = try await harness.send("GET", "/v1/leads?email=durable@x.example", key: .read)
        let lead = try #require(found.json["data"]?.arrayValue.first)
        #expect(lead["score"]?["total"] == 200)
        let id = try #require(lead["id"]?.stringValue)
        let events = try await harness.send("GET", "/v1/leads/\(id)/events?limit=1000", key: .read)
        #expect(events.json["data"]?.arrayValue.count == 200)
        try await harness.stop()
    }

    @Test(
        "Segment's and RudderStack's Python libraries: calls land on the right leads with the right scores",
        arguments: ServerHarness.Backend.allCases
    )
    func pythonLibraries(backend: ServerHarness.Backend) async throws {
        guard let python = ProcessInfo.processInfo.environment["CALOR_TEST_PYTHON"] else {
            // Scripts/test always sets it (it installs the libraries in .build-py); with CI=true it is required.
            #expect(ProcessInfo.processInfo.environment["CI"] != "true", "CALOR_TEST_PYTHON is not set")
            return
        }
        guard let harness = try await ServerHarness.start(backend) else { return }
        let (status, printed) = try await ServerHarness.runTool(
            python,
            [ServerHarness.pythonFile("sdk_clients.py"), harness.address, harness.keys[.ingest]!]
        )
        #expect(status == 0, "\(printed)")

        let segment = try await harness.send("GET", "/v1/leads?external_id=seg-user", key: .read)
        let segmentLead = try #require(segment.json["data"]?.arrayValue.first, "\(segment.text)")
        #expect(segmentLead["email"] == "segment.user@acme.example")
        #expect(segmentLead["attributes"]?["job_title"] == "CTO")
        #expect(segmentLead["attributes"]?["company"] == "Acme")
        #expect(segmentLead["attributes"]?["company_size"] == 250)
        // big 30 + quote 40 + two page views before the identify call, tied to the lead by it: 2 × 2.
        #expect(segmentLead["score"]?["total"] == 74)
        #expect(segmentLead["score"]?["temperature"] == "hot")
        let segmentID = try #require(segmentLead["id"]?.stringValue)
        let timeline = try await harness.send("GET", "/v1/leads/\(segmentID)/events", key: .read)
        let quote = try #require(timeline.json["data"]?.arrayValue.first { $0["type"] == "quote_requested" })
        #expect(quote["context"]?["campaign"]?["source"] == "google")

        let rudder = try await harness.send("GET", "/v1/leads?email=rudder.user@acme.example", key: .read)
        let rudderLead = try #require(rudder.json["data"]?.arrayValue.first, "\(rudder.text)")
        #expect(rudderLead["external_id"] == "rudder-user")
        // two email opens (1 each) + one page view (2).
        #expect(rudderLead["score"]?["total"] == 4)
        try await harness.stop()
    }
}

@Suite("Several calor-server processes on one PostgreSQL database")
struct SharedDatabaseTests {
    @Test("two servers ingesting for the same leads concurrently store the scores a full recomputation gives")
    func twoServers() async throws {
        guard let harness = try await ServerHarness.start(.postgres) else { return }
        let (second, secondAddress) = try await ServerHarness.launch(database: harness.database)
        let addresses = [harness.address, secondAddress]
        let types = ["page_viewed", "email_opened", "quote_requested", "demo_requested"]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for round in 0..<10 {
                        let batch = JSONValue.object([
                            "batch": .array(
                                (0..<20).map { index in
                                    [
                                        "type": .string(types[(worker + round + index) % types.count]),
                                        "lead": ["email": .string("shared\((index + round) % 12)@x.example")],
                                    ]
                                }
                            )
                        ])
                        let answer = try await harness.send(
                            "POST",
                            "/v1/events",
                            key: .ingest,
                            json: batch,
                            to: addresses[worker % 2]
                        )
                        #expect(answer.status == 200, "\(answer.text)")
                        if worker % 4 == 0 {
                            _ = try await harness.send(
                                "PUT",
                                "/v1/leads",
                                key: .ingest,
                                json: [
                                    "email": .string("shared\(round % 12)@x.example"),
                                    "attributes": ["company_size": .number(Double(round * 30))],
                                ],
                                to: addresses[(worker + 1) % 2]
                            )
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let criteria = try Criteria(parsing: ServerHarness.criteria)
        let list = try await harness.send("GET", "/v1/leads?limit=100", key: .read)
        let leads = list.json["data"]?.arrayValue ?? []
        #expect(leads.count == 12)
        for lead in leads {
            let id = try #require(lead["id"]?.stringValue)
            let timeline = try await harness.send("GET", "/v1/leads/\(id)/events?limit=1000", key: .read)
            let events = (timeline.json["data"]?.arrayValue ?? []).enumerated().map { index, event in
                Event(
                    id: Event.ID(Int64(index)),
                    messageID: MessageID("m\(index)"),
                    leadID: nil,
                    anonymousID: nil,
                    type: EventType(event["type"]?.stringValue ?? ""),
                    properties: event["properties"]?.objectValue ?? [:],
                    context: [:],
                    timestamp: Date(),
                    receivedAt: Date()
                )
            }
            let stored = Lead(
                id: Lead.ID(string: id)!,
                email: lead["email"]?.stringValue.flatMap { EmailAddress($0) },
                externalID: nil,
                attributes: lead["attributes"]?.objectValue ?? [:],
                source: nil,
                stage: .subscriber,
                createdAt: Date(),
                updatedAt: Date()
            )
            let expected = criteria.score(lead: stored, events: events, at: Date())
            #expect(lead["score"]?["total"]?.numberValue == expected.total, "lead \(id)")
        }
        second.signal(SIGTERM)
        #expect(try await second.exitCode() == 0)
        try await harness.stop()
    }
}

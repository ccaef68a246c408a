import API
import Core
import Domain
import Foundation
import HTTPTypes
import NIOCore
import Testing

@Suite("Native ingestion and lead reads over HTTP")
struct IngestionRoutesTests {
    @Test("a batch answers every item: good ones stored, a bad one rejected with its field, a repeat a duplicate")
    func batch() async throws {
        try await APIHarness.with(.sqlite) { harness, client in
            let answer = try await client.send(
                .post,
                "/v1/events",
                key: .ingest,
                harness: harness,
                json: [
                    "batch": [
                        ["type": "quote_requested", "lead": ["email": "Ana@Acme.example"], "message_id": "q1"],
                        ["type": "page_viewed", "lead": ["email": "ana@acme.example"], "timestamp": "yesterday"],
                        ["type": "page_viewed", "lead": ["id": .string(Lead.ID.generate().description)]],
                        ["type": "quote_requested", "lead": ["email": "ana@acme.example"], "message_id": "q1"],
                        ["type": "page_viewed", "anonymous_id": "visitor-1", "colour": "red"],
                    ]
                ]
            )
            #expect(answer.status == .ok)
            let results = try #require(answer.json["results"].flatMap { if case .array(let a) = $0 { a } else { nil } })
            #expect(
                results.map { $0["status"]?.stringValue } == [
                    "accepted", "rejected", "rejected", "duplicate", "rejected",
                ]
            )
            #expect(results[1]["error"]?["errors"]?.jsonText.contains("/batch/1/timestamp") == true)
            #expect(results[2]["error"]?["type"] == "https://calor.dev/problems/lead-not-found")
            #expect(results[3]["event_id"] == results[0]["event_id"])
            #expect(results[4]["error"]?["errors"]?.jsonText.contains("/batch/4/colour") == true)

            let lead = try #require(try await harness.storage.leads.find(email: EmailAddress("ana@acme.example")!))
            #expect(try await harness.storage.events.events(of: lead.id).count == 1)
            let score = try #require(try await harness.storage.scores.score(of: lead.id))
            #expect(score.total == 40)
            #expect(score.explanation.map(\.rule) == ["quote"])
        }
    }

    @Test("a single event is answered 202, a bad one with a 400 problem naming the field, and changes nothing")
    func single() async throws {
        try await APIHarness.with(.sqlite) { harness, client in
            let accepted = try await client.send(
                .post,
                "/v1/events",
                key: .ingest,
                harness: harness,
                json: ["type": "page_viewed", "lead": ["external_id": "crm-7"]]
            )
            #expect(accepted.status == .accepted)
            #expect(accepted.json["status"] == "accepted")
            let rejected = try await client.send(
                .post,
                "/v1/events",
                key: .ingest,
                harness: harness,
                json: ["type": "", "lead": ["email": "not-an-email"]]
            )
            #expect(rejected.status == .badRequest)
            #expect(rejected.headers[.contentType] == "application/problem+json")
            let pointers = rejected.json["errors"]?.jsonText ?? ""
            #expect(pointers.contains("/type") && pointers.contains("/lead/email"))
            #expect(try await harness.storage.leads.count() == 1)
        }
    }

    @Test("malformed JSON is a 400 that says where; a body over the limit is a 413; neither stores anything")
    func malformedAndTooLarge() async throws {
        try await APIHarness.with(.sqlite, configuration: APIConfiguration(maximumBodyBytes: 1_000)) {
            harness,
            client in
            let malformed = try await client.send(
                .post,
                "/v1/events",
                key: .ingest,
                harness: harness,
                body: ByteBuffer(string: "{\"type\": \"x\",\n \"lead\": }")
            )
            #expect(malformed.status == .badRequest)
            #expect(malformed.json["type"] == "https://calor.dev/problems/malformed-json")
            #expect(malformed.json["detail"]?.stringValue?.contains("line 2") == true)

            let big = JSONValue.object([
                "type": "page_viewed", "anonymous_id": "v",
                "properties": ["blob": .string(String(repeating: "x", count: 2_000))],
            ])
            let tooLarge = try await client.send(.post, "/v1/events", key: .ingest, harness: harness, json: big)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(tooLarge.json["type"] == "https://calor.dev/problems/body-too-large")
            #expect(
                try await harness.storage.events.timeline(of: Lead.ID.generate(), limit: 1, after: nil).events.isEmpty
            )
        }
    }

    @Test("a batch over the item limit is refused whole with 413")
    func batchLimit() async throws {
        try await APIHarness.with(.sqlite, configuration: APIConfiguration(maximumBatchItems: 2)) { harness, client in
            let event: JSONValue = ["type": "page_viewed", "anonymous_id": "v"]
            let answer = try await client.send(
                .post,
                "/v1/events",
                key: .ingest,
                harness: harness,
                json: ["batch": [event, event, event]]
            )
            #expect(answer.status == .contentTooLarge)
            #expect(answer.json["type"] == "https://calor.dev/problems/batch-too-large")
        }
    }

    @Test("a visitor's past and future events become the lead's once an upsert ties them, and count in its score")
    func identityMerge() async throws {
        try await APIHarness.with(.sqlite) { harness, client in
            for index in 0..<3 {
                _ = try await client.send(
                    .post,
                    "/v1/events",
                    key: .ingest,
                    harness: harness,
                    json: ["type": "page_viewed", "anonymous_id": "visitor-9", "message_id": .string("p\(index)")]
                )
            }
            let upsert = try await client.send(
                .put,
                "/v1/leads",
                key: .admin,
                harness: harness,
                json: ["email": "bo@acme.example", "attributes": ["company_size": 250], "anonymous_id": "visitor-9"]
            )
            #expect(upsert.status == .created)
            #expect(upsert.json["score"]?["total"] == 36)
            let id = try #require(upsert.json["id"]?.stringValue)
            _ = try await client.send(
                .post,
                "/v1/events",
                key: .ingest,
                harness: harness,
                json: ["type": "quote_requested", "anonymous_id": "visitor-9"]
            )
            let lead = try await client.send(.get, "/v1/leads/\(id)", key: .read, harness: harness)
            #expect(lead.json["score"]?["total"] == 76)
            #expect(lead.json["score"]?["temperature"] == "hot")
            #expect(lead.json["anonymous_ids"] == ["visitor-9"])
            #expect(lead.json["temperature_history"]?.jsonText.contains("\"to_temperature\":\"hot\"") == true)
            let timeline = try await client.send(.get, "/v1/leads/\(id)/events?limit=2", key: .read, harness: harness)
            #expect(timeline.json["data"]?.jsonText.contains("quote_requested") == true)
            let cursor = try #require(timeline.json["next_cursor"]?.stringValue)
            let rest = try await client.send(
                .get,
                "/v1/leads/\(id)/events?limit=10&cursor=\(cursor)",
                key: .read,
                harness: harness
            )
            if case .array(let events)? = rest.json["data"] {
                #expect(events.count == 2)
            } else {
                Issue.record("no data")
            }
        }
    }

    @Test("two identified leads are never merged: the event that names both stays the named lead's")
    func noAutomaticMerge() async throws {
        try await APIHarness.with(.sqlite) { harness, client in
            _ = try await client.send(
                .put,
                "/v1/leads",
                key: .ingest,
                harness: harness,
                json: ["email": "a@x.example", "anonymous_id": "shared"]
            )
            let answer = try await client.send(
                .post,
                "/v1/events",
                key: .ingest,
                harness: harness,
                json: ["type": "quote_requested", "lead": ["email": "b@x.example"], "anonymous_id": "shared"]
            )
            #expect(answer.status == .accepted)
            let a = try #require(try await harness.storage.leads.find(email: EmailAddress("a@x.example")!))
            let b = try #require(try await harness.storage.leads.find(email: EmailAddress("b@x.example")!))
            #expect(try await harness.storage.identities.lead(for: AnonymousID("shared")) == a.id)
            #expect(try await harness.storage.events.events(of: b.id).count == 1)
            #expect(try await harness.storage.events.events(of: a.id).isEmpty)
        }
    }

    @Test("an upsert whose email and external id name two leads is a 409 and changes nothing")
    func identityConflict() async throws {
        try await APIHarness.with(.sqlite) { harness, client in
            _ = try await client.send(.put, "/v1/leads", key: .ingest, harness: harness, json: ["email": "a@x.example"])
            _ = try await client.send(.put, "/v1/leads", key: .ingest, harness: harness, json: ["external_id": "crm-1"])
            let conflict = try await client.send(
                .put,
                "/v1/leads",
                key: .ingest,
                harness: harness,
                json: ["email": "a@x.example", "external_id": "crm-1", "attributes": ["company_size": 500]]
            )
            #expect(conflict.status == .conflict)
            let a = try #require(try await harness.storage.leads.find(email: EmailAddress("a@x.example")!))
            #expect(a.attributes.isEmpty)
            #expect(a.externalID == nil)
        }
    }

    @Test("an ingest key's upsert answers only the id; a read key's the whole lead; unknown fields are refused")
    func upsertAnswers() async throws {
        try await APIHarness.with(.sqlite) { harness, client in
            let ingest = try await client.send(
                .put,
                "/v1/leads",
                key: .ingest,
                harness: harness,
                json: ["email": "a@x.example", "attributes": ["company_size": 500]]
            )
            #expect(ingest.status == .created)
            #expect(ingest.json.objectValue?.keys.sorted() == ["id"])
            let admin = try await client.send(
                .put,
                "/v1/leads",
                key: .admin,
                harness: harness,
                json: ["email": "a@x.example"]
            )
            #expect(admin.status == .ok)
            #expect(admin.json["score"]?["total"] == 30)
            let unknown = try await client.send(
                .put,
                "/v1/leads",
                key: .admin,
                harness: harness,
                json: ["email": "a@x.example", "stage": "customer"]
            )
            #expect(unknown.status == .badRequest)
            #expect(unknown.json["errors"]?.jsonText.contains("/stage") == true)
            let stored = try #require(try await harness.storage.leads.find(email: EmailAddress("a@x.example")!))
            #expect(stored.stage == .lead)  // where the funnel's rule put it, not where the request asked
        }
    }

    @Test("a late event scores as if it had arrived in order")
    func lateEvents() async throws {
        try await APIHarness.with(.sqlite) { harness, client in
            let now = Date()
            for (index, daysAgo) in [0.0, 5, 2, 9].enumerated() {
                _ = try await client.send(
                    .post,
                    "/v1/events",
                    key: .ingest,
                    harness: harness,
                    json: [
                        "type": "page_viewed", "lead": ["email": "late@x.example"], "message_id": .string("l\(index)"),
                        "timestamp": .string(WireFormat.time(now.addingTimeInterval(-daysAgo * 86_400))),
                    ]
                )
            }
            let lead = try #require(try await harness.storage.leads.find(email: EmailAddress("late@x.example")!))
            let events = try await harness.storage.events.events(of: lead.id)
            #expect(events.map(\.messageID.rawValue) == ["l3", "l1", "l2", "l0"])
            #expect(try await harness.storage.scores.score(of: lead.id)?.total == 8)
        }
    }

    @Test("the lead list filters, sorts by score, pages with a cursor, and never shows a disqualified lead as hot")
    func list() async throws {
        try await APIHarness.with(.sqlite) { harness, client in
            for (email, size, quote) in [
                ("a@x.example", 500, true), ("b@x.example", 10, true), ("c@rival.example", 500, true),
                ("d@x.example", 10, false),
            ] {
                _ = try await client.send(
                    .put,
                    "/v1/leads",
                    key: .ingest,
                    harness: harness,
                    json: ["email": .string(email), "attributes": ["company_size": .number(Double(size))]]
                )
                if quote {
                    _ = try await client.send(
                        .post,
                        "/v1/events",
                        key: .ingest,
                        harness: harness,
                        json: ["type": "quote_requested", "lead": ["email": .string(email)]]
                    )
                }
            }
            let hot = try await client.send(.get, "/v1/leads?temperature=hot", key: .read, harness: harness)
            #expect(hot.json["data"]?.jsonText.contains("a@x.example") == true)
            #expect(hot.json["data"]?.jsonText.contains("rival") == false)

            var emails: [String] = []
            var cursor: String?
            repeat {
                let uri = "/v1/leads?sort=score&limit=1" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await client.send(.get, uri, key: .read, harness: harness)
                #expect(page.status == .ok)
                if case .array(let data)? = page.json["data"] { emails += data.compactMap { $0["email"]?.stringValue } }
                cursor = page.json["next_cursor"]?.stringValue
            } while cursor != nil && emails.count < 10
            // A disqualified lead keeps its computed points (SPEC §2), so it sorts by them…
            #expect(emails == ["a@x.example", "c@rival.example", "b@x.example", "d@x.example"])
            // …and a sales list leaves it out.
            let qualified = try await client.send(
                .get,
                "/v1/leads?sort=score&exclude_disqualified=true",
                key: .read,
                harness: harness
            )
            #expect(qualified.json["data"]?.jsonText.contains("rival") == false)

            let byEmail = try await client.send(.get, "/v1/leads?email=B@x.example", key: .read, harness: harness)
            #expect(byEmail.json["data"]?.jsonText.contains("b@x.example") == true)
            let typo = try await client.send(.get, "/v1/leads?temprature=hot", key: .read, harness: harness)
            #expect(typo.status == .badRequest)
            #expect(typo.json["errors"]?.jsonText.contains("temprature") == true)
            let badScore = try await client.send(.get, "/v1/leads?min_score=lots", key: .read, harness: harness)
            #expect(badScore.status == .badRequest)
        }
    }

    @Test("gzip bodies are inflated; a body that does not inflate is a 400")
    func gzip() async throws {
        try await APIHarness.with(.sqlite) { harness, client in
            let good = try await client.send(
                .post,
                "/v1/events",
                key: .ingest,
                harness: harness,
                headers: [.contentEncoding: "gzip"],
                body: ByteBuffer(bytes: try gzipped(#"{"type":"quote_requested","lead":{"email":"z@x.example"}}"#))
            )
            #expect(good.status == .accepted)
            let bad = try await client.send(
                .post,
                "/v1/events",
                key: .ingest,
                harness: harness,
                headers: [.contentEncoding: "gzip"],
                body: ByteBuffer(string: "plain")
            )
            #expect(bad.status == .badRequest)
        }
    }

    @Test("a web page's preflight on an ingestion route gets CORS headers; read routes get none")
    func cors() async throws {
        try await APIHarness.with(.sqlite) { harness, client in
            let preflight = try await client.send(
                .options,
                "/v1/events",
                key: nil,
                harness: harness,
                headers: [.origin: "https://shop.example"]
            )
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowOrigin] == "*")
            #expect(preflight.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
            let read = try await client.send(
                .get,
                "/v1/leads",
                key: .read,
                harness: harness,
                headers: [.origin: "https://shop.example"]
            )
            #expect(read.headers[.accessControlAllowOrigin] == nil)
        }
    }
}

/// `text` gzip-compressed, by the system's gzip.
func gzipped(_ text: String) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-c"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    input.fileHandleForWriting.write(Data(text.utf8))
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Array(data)
}

@Suite("Operations routes")
struct OperationsRoutesTests {
    @Test("/metrics counts requests by route template and events by outcome, and never names a lead")
    func metrics() async throws {
        try await APIHarness.with(.sqlite) { harness, client in
            let accepted = try await client.send(
                .post,
                "/v1/events",
                key: .ingest,
                harness: harness,
                json: ["batch": [["type": "quote_requested", "lead": ["email": "m@x.example"]], ["type": ""]]]
            )
            #expect(accepted.status == .ok)
            let lead = try #require(try await harness.storage.leads.find(email: EmailAddress("m@x.example")!))
            _ = try await client.send(.get, "/v1/leads/\(lead.id)", key: .read, harness: harness)
            let metrics = try await client.send(.get, "/metrics", key: nil, harness: harness)
            #expect(metrics.status == .ok)
            #expect(metrics.text.contains(#"calor_events_total{outcome="accepted"} 1"#))
            #expect(metrics.text.contains(#"calor_events_total{outcome="rejected"} 1"#))
            #expect(metrics.text.contains(#"route="/v1/leads/{id}""#))
            #expect(metrics.text.contains("calor_http_request_duration_seconds_bucket"))
            #expect(!metrics.text.contains(lead.id.description))
            #expect(!metrics.text.contains("m@x.example"))
        }
    }
}

import API
import Core
import Domain
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite("Funnel stages over HTTP: automation with scoring, manual moves, history")
struct StageRoutesTests {
    /// Sends one event for `email` and returns the lead's id.
    static func event(
        _ type: String,
        email: String,
        properties: JSONObject = [:],
        client: some TestClientProtocol,
        harness: APIHarness
    ) async throws -> Lead.ID {
        let answer = try await client.send(
            .post,
            "/v1/events",
            key: .ingest,
            harness: harness,
            json: ["type": .string(type), "lead": ["email": .string(email)], "properties": .object(properties)]
        )
        #expect(answer.status == .accepted, "\(answer.text)")
        return try #require(answer.json["lead_id"]?.stringValue.flatMap(Lead.ID.init(string:)))
    }

    static func stages(
        of id: Lead.ID,
        client: some TestClientProtocol,
        harness: APIHarness
    ) async throws -> [JSONValue] {
        let answer = try await client.send(.get, "/v1/leads/\(id)/stages", key: .read, harness: harness)
        #expect(answer.status == .ok, "\(answer.text)")
        guard case .array(let items)? = answer.json["data"] else { return [] }
        return items
    }

    @Test("a move at a past time: admin only, never in the future, current only when nothing moved the lead since")
    func backDated() async throws {
        try await APIHarness.with { harness, client in
            let id = try await Self.event("page_viewed", email: "late@acme.example", client: client, harness: harness)
            let past = "2026-01-15T10:00:00Z"
            let bySales = try await client.send(
                .post,
                "/v1/leads/\(id)/stage",
                key: .sales,
                harness: harness,
                json: ["stage": "customer", "at": .string(past)]
            )
            #expect(bySales.status == .forbidden, "\(bySales.text)")
            let future = try await client.send(
                .post,
                "/v1/leads/\(id)/stage",
                key: .admin,
                harness: harness,
                json: ["stage": "customer", "at": "2999-01-01T00:00:00Z"]
            )
            #expect(future.status == .badRequest, "\(future.text)")
            // The lead entered the funnel (moved to `lead`) now: a move dated in January is history, not its stage.
            let moved = try await client.send(
                .post,
                "/v1/leads/\(id)/stage",
                key: .admin,
                harness: harness,
                json: ["stage": "customer", "at": .string(past), "value": 900]
            )
            #expect(moved.status == .created, "\(moved.text)")
            #expect(moved.json["transition"]?["at"] == .string(past))
            #expect(try await harness.storage.leads.find(id)?.stage == .lead)
            let history = try await Self.stages(of: id, client: client, harness: harness)
            #expect(history.map { $0["to"]?.stringValue } == ["customer", "lead"], "oldest first")
        }
    }

    @Test("the event that makes a lead hot moves it to mql in the same commit; an order makes it a customer")
    func automation() async throws {
        try await APIHarness.with { harness, client in
            let id = try await Self.event("page_viewed", email: "ana@acme.example", client: client, harness: harness)
            var lead = try #require(try await harness.storage.leads.find(id))
            #expect(lead.stage == .lead)  // SPEC §3: a lead with an email is a lead

            // 40 (quote) + 2 (visit) + 30 (fit) = 72 ≥ 50: hot, and so an MQL, stored with the score.
            try await harness.storage.leads.replaceAttributes(of: id, with: ["company_size": 250], at: Date())
            _ = try await Self.event("quote_requested", email: "ana@acme.example", client: client, harness: harness)
            lead = try #require(try await harness.storage.leads.find(id))
            #expect(lead.stage == .mql)
            #expect(try await harness.storage.scores.score(of: id)?.temperature == .hot)

            let order = try await client.send(
                .post,
                "/v1/events",
                key: .ingest,
                harness: harness,
                json: ["type": "order_completed", "lead": ["email": "ana@acme.example"], "message_id": "order-1"]
            )
            let orderID = try #require(order.json["event_id"]?.stringValue)
            let history = try await Self.stages(of: id, client: client, harness: harness)
            #expect(history.map { $0["to"]?.stringValue } == ["lead", "mql", "customer"])
            #expect(history.map { $0["from"]?.stringValue } == ["subscriber", "lead", "mql"])
            #expect(history.map { $0["reason"]?["rule"]?.stringValue } == ["funnel.1", "funnel.2", "funnel.3"])
            #expect(history[2]["reason"]?["event_id"]?.stringValue == orderID)
            #expect(history[2]["reason"]?["kind"] == "rule")
        }
    }

    @Test("a disqualified lead goes to the disqualified exit, and automation never takes it out")
    func disqualifiedExit() async throws {
        try await APIHarness.with { harness, client in
            let id = try await Self.event(
                "quote_requested",
                email: "boss@rival.example",
                client: client,
                harness: harness
            )
            _ = try await Self.event("order_completed", email: "boss@rival.example", client: client, harness: harness)
            #expect(try await harness.storage.leads.find(id)?.stage == .disqualified)
            let history = try await Self.stages(of: id, client: client, harness: harness)
            #expect(history.map { $0["to"]?.stringValue } == ["disqualified"])
        }
    }

    @Test("a manual move goes anywhere, names the key as actor, and holds until the lead does something new")
    func manualMove() async throws {
        try await APIHarness.with { harness, client in
            let id = try await Self.event("order_completed", email: "bo@acme.example", client: client, harness: harness)
            #expect(try await harness.storage.leads.find(id)?.stage == .customer)

            // Back to sql by hand: the old order no longer counts, so a later visit does not make it a customer again.
            let moved = try await client.send(
                .post,
                "/v1/leads/\(id)/stage",
                key: .sales,
                harness: harness,
                json: ["stage": "sql", "reason": "refunded", "value": 0]
            )
            #expect(moved.status == .created, "\(moved.text)")
            #expect(moved.json["moved"] == true)
            #expect(moved.json["transition"]?["reason"]?["actor"] == "test-sales")
            #expect(moved.json["transition"]?["reason"]?["note"] == "refunded")
            #expect(moved.json["lead"]?["stage"] == "sql")
            _ = try await Self.event("page_viewed", email: "bo@acme.example", client: client, harness: harness)
            #expect(try await harness.storage.leads.find(id)?.stage == .sql)

            // A new order, received after the move, moves it forward again.
            _ = try await Self.event("order_completed", email: "bo@acme.example", client: client, harness: harness)
            #expect(try await harness.storage.leads.find(id)?.stage == .customer)

            // The same stage again changes nothing and says so.
            let again = try await client.send(
                .post,
                "/v1/leads/\(id)/stage",
                key: .admin,
                harness: harness,
                json: ["stage": "customer"]
            )
            #expect(again.status == .ok)
            #expect(again.json["moved"] == false)
            #expect(again.json["transition"] == .null)

            let history = try await Self.stages(of: id, client: client, harness: harness)
            // The first order took it straight to the furthest stage whose rule held.
            #expect(history.map { $0["to"]?.stringValue } == ["customer", "sql", "customer"])
            #expect(history.map { $0["reason"]?["kind"]?.stringValue } == ["rule", "manual", "rule"])
            #expect(history[1]["value"] == 0)
            let audit = try await harness.storage.audit.recent(limit: 5)
            #expect(
                audit.contains { $0.action == "lead.stage" && $0.subject == id.description && $0.actor == "test-sales" }
            )
        }
    }

    @Test("bad moves are refused with the field and change nothing; only sales and admin keys may move")
    func refusals() async throws {
        try await APIHarness.with { harness, client in
            let id = try await Self.event("page_viewed", email: "cy@acme.example", client: client, harness: harness)
            let path = "/v1/leads/\(id)/stage"
            let unknown = try await client.send(.post, path, key: .sales, harness: harness, json: ["stage": "won"])
            #expect(unknown.status == .unprocessableContent)
            #expect(unknown.json["errors"]?.jsonText.contains("\"/stage\"") == true)
            #expect(unknown.json["detail"]?.stringValue?.contains("'opportunity'") == true)
            let negative = try await client.send(
                .post,
                path,
                key: .sales,
                harness: harness,
                json: ["stage": "opportunity", "value": -5]
            )
            #expect(negative.status == .unprocessableContent)
            #expect(negative.json["errors"]?.jsonText.contains("\"/value\"") == true)
            let malformed = try await client.send(
                .post,
                path,
                key: .sales,
                harness: harness,
                json: ["stage": 3, "colour": "red"]
            )
            #expect(malformed.status == .badRequest)
            #expect(malformed.json["errors"]?.jsonText.contains("/colour") == true)
            #expect(malformed.json["errors"]?.jsonText.contains("/stage") == true)
            for scope in [APIKey.Scope.read, .ingest] {
                let forbidden = try await client.send(.post, path, key: scope, harness: harness, json: ["stage": "sql"])
                #expect(forbidden.status == .forbidden)
            }
            let missing = try await client.send(
                .post,
                "/v1/leads/\(Lead.ID.generate())/stage",
                key: .sales,
                harness: harness,
                json: ["stage": "sql"]
            )
            #expect(missing.status == .notFound)
            #expect(try await harness.storage.leads.find(id)?.stage == .lead)
            #expect(try await Self.stages(of: id, client: client, harness: harness).count == 1)
            // A sales key reads what a read key reads.
            let read = try await client.send(.get, "/v1/leads/\(id)", key: .sales, harness: harness)
            #expect(read.status == .ok)
        }
    }

    @Test("a dry run counts the leads the proposed funnel rules would move now, and moves none")
    func dryRun() async throws {
        try await APIHarness.with { harness, client in
            let first = try await Self.event("page_viewed", email: "di@acme.example", client: client, harness: harness)
            _ = try await Self.event("demo_requested", email: "ed@acme.example", client: client, harness: harness)
            let proposed =
                testCriteria + """

                    funnel:
                      stages: [subscriber, lead, mql, sql, opportunity, customer]
                      exits: [disqualified, lost]
                      rules:
                        - { to: sql, when: { event: demo_requested } }
                    """
            let answer = try await client.send(
                .put,
                "/v1/criteria?dry_run=true",
                key: .admin,
                harness: harness,
                headers: [.contentType: "application/yaml"],
                body: .init(string: proposed)
            )
            #expect(answer.status == .ok, "\(answer.text)")
            #expect(answer.json["stage_moves"] == [["from": "lead", "to": "sql", "leads": 1]])
            #expect(try await harness.storage.leads.find(first)?.stage == .lead)
        }
    }
}

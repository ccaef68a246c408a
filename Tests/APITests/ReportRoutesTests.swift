import API
import Core
import Domain
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite("Reports over HTTP: the funnel and the temperature scorecard")
struct ReportRoutesTests {
    /// Three leads through the real routes: ana becomes an MQL, bo a customer straight from an order (skipping every
    /// stage between), cy is moved to the lost exit by hand.
    static func seed(client: some TestClientProtocol, harness: APIHarness) async throws {
        for (email, channel) in [
            ("ana@acme.example", "email"), ("bo@acme.example", "paid_search"), ("cy@acme.example", "email"),
        ] {
            let answer = try await client.send(
                .put,
                "/v1/leads",
                key: .ingest,
                harness: harness,
                json: [
                    "email": .string(email), "source": ["channel": .string(channel)],
                    "attributes": ["company_size": email.hasPrefix("ana") ? 250 : 5],
                ]
            )
            #expect(answer.status == .created, "\(answer.text)")
        }
        for (type, email) in [("quote_requested", "ana@acme.example"), ("order_completed", "bo@acme.example")] {
            let answer = try await client.send(
                .post,
                "/v1/events",
                key: .ingest,
                harness: harness,
                json: ["type": .string(type), "lead": ["email": .string(email)]]
            )
            #expect(answer.status == .accepted)
        }
        let cy = try #require(try await harness.storage.leads.find(email: EmailAddress("cy@acme.example")!))
        let lost = try await client.send(
            .post,
            "/v1/leads/\(cy.id)/stage",
            key: .sales,
            harness: harness,
            json: ["stage": "lost"]
        )
        #expect(lost.status == .created)
    }

    static func stages(_ row: JSONValue?, _ field: String) -> [JSONValue?] {
        guard case .array(let stages)? = row?["stages"] else { return [] }
        return stages.map { $0[field] }
    }

    static func numbers(_ row: JSONValue?, _ field: String) -> [Double?] {
        stages(row, field).map { $0?.numberValue }
    }

    @Test("per stage: reached, conversions and drop-off as hand-computed; a later stage passes the earlier ones")
    func funnel() async throws {
        try await APIHarness.with { harness, client in
            try await Self.seed(client: client, harness: harness)
            let answer = try await client.send(.get, "/v1/reports/funnel", key: .read, harness: harness)
            #expect(answer.status == .ok, "\(answer.text)")
            #expect(answer.json["leads"] == 3)
            #expect(answer.json["stages"] == ["subscriber", "lead", "mql", "sql", "opportunity", "customer"])
            guard case .array(let rows)? = answer.json["rows"] else {
                Issue.record("no rows")
                return
            }
            #expect(rows.count == 1)
            #expect(Self.stages(rows.first, "reached") == [3, 3, 2, 1, 1, 1])
            #expect(Self.stages(rows.first, "drop_off") == [0, 0, 1, 1, 0, 0])
            let third = 1.0 / 3
            #expect(Self.numbers(rows.first, "conversion_from_previous") == [1, 1, 2 * third, 0.5, 1, 1])
            #expect(Self.numbers(rows.first, "conversion_from_first") == [1, 1, 2 * third, third, third, third])
            let medians = Self.stages(rows.first, "median_seconds_from_previous")
            #expect(medians.first == .null)
            #expect(medians.dropFirst().allSatisfy { ($0?.numberValue ?? -1) >= 0 })

            let byChannel = try await client.send(.get, "/v1/reports/funnel?by=channel", key: .read, harness: harness)
            guard case .array(let groups)? = byChannel.json["rows"] else {
                Issue.record("no rows")
                return
            }
            #expect(groups.map { $0["group"] } == ["email", "paid_search"])
            #expect(Self.stages(groups.first, "reached") == [2, 2, 1, 0, 0, 0])
            #expect(Self.stages(groups.last, "reached") == [1, 1, 1, 1, 1, 1])

            let attribute = try await client.send(
                .get,
                "/v1/reports/funnel?by=attributes.company_size",
                key: .read,
                harness: harness
            )
            guard case .array(let sizes)? = attribute.json["rows"] else {
                Issue.record("no rows")
                return
            }
            #expect(sizes.map { $0["group"] } == ["250", "5"])
        }
    }

    @Test("cohorts list every week of the period, empty ones included; a window counts only early reaching")
    func cohortsAndWindow() async throws {
        try await APIHarness.with { harness, client in
            try await Self.seed(client: client, harness: harness)
            let calendar = {
                var c = Calendar(identifier: .iso8601)
                c.timeZone = TimeZone(identifier: "UTC")!
                return c
            }()
            let today = calendar.startOfDay(for: Date())
            let from = calendar.date(byAdding: .day, value: -21, to: today)!
            let day = { (date: Date) in String(WireFormat.time(date).prefix(10)) }
            let answer = try await client.send(
                .get,
                "/v1/reports/funnel?cohort=week&from=\(day(from))&to=\(day(today))",
                key: .read,
                harness: harness
            )
            #expect(answer.status == .ok, "\(answer.text)")
            guard case .array(let rows)? = answer.json["rows"] else {
                Issue.record("no rows")
                return
            }
            #expect((4...5).contains(rows.count))  // the weeks touching 22 days
            #expect(rows.dropLast().allSatisfy { Self.stages($0, "reached").allSatisfy { $0 == 0 } })
            #expect(Self.stages(rows.last, "reached") == [3, 3, 2, 1, 1, 1])

            // Everyone reached everything within seconds: a one-minute window changes nothing here.
            let window = try await client.send(.get, "/v1/reports/funnel?window=30d", key: .read, harness: harness)
            #expect(window.json["window_seconds"] == 2_592_000)
            guard case .array(let windowed)? = window.json["rows"] else {
                Issue.record("no rows")
                return
            }
            #expect(Self.stages(windowed.first, "reached") == [3, 3, 2, 1, 1, 1])

            // A period nobody entered in.
            let empty = try await client.send(
                .get,
                "/v1/reports/funnel?from=2020-01-01&to=2020-01-31",
                key: .read,
                harness: harness
            )
            #expect(empty.json["leads"] == 0)
        }
    }

    @Test(
        "bad parameters are a 400 naming the parameter",
        arguments: [
            "by=colour", "cohort=day", "window=soon", "from=yesterday", "from=2026-11-10&to=2026-11-01", "limit=5",
        ]
    )
    func badParameters(query: String) async throws {
        try await APIHarness.with { harness, client in
            let answer = try await client.send(.get, "/v1/reports/funnel?\(query)", key: .read, harness: harness)
            #expect(answer.status == .badRequest, "\(answer.text)")
            let name = String(query.split(separator: "&").last!.split(separator: "=")[0])
            #expect(answer.json["errors"]?.jsonText.contains("\"\(name)\"") == true, "\(answer.text)")
        }
    }

    @Test("the scorecard: cold, warm, hot and disqualified leads per source")
    func temperatures() async throws {
        try await APIHarness.with { harness, client in
            try await Self.seed(client: client, harness: harness)
            let answer = try await client.send(
                .get,
                "/v1/reports/temperatures?by=channel",
                key: .read,
                harness: harness
            )
            #expect(answer.status == .ok, "\(answer.text)")
            guard case .array(let rows)? = answer.json["rows"] else {
                Issue.record("no rows")
                return
            }
            // ana: 30 fit + 40 quote = 70, hot; cy: 0, cold; bo: 0, cold.
            #expect(rows.map { $0["group"] } == ["email", "paid_search"])
            #expect(rows.map { $0["hot"] } == [1, 0])
            #expect(rows.map { $0["cold"] } == [1, 1])
            #expect(rows.map { $0["leads"] } == [2, 1])
            #expect(rows.first?["hot_share"] == 0.5)
        }
    }
}

import API
import Core
import Domain
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The RFC 3339 time `days` days before now, or its UTC day (`YYYY-MM-DD`).
private func ago(_ days: Double, day: Bool = false) -> String {
    let text = WireFormat.time(Date().addingTimeInterval(-days * 86_400))
    return day ? String(text.prefix(10)) : text
}

@Suite("Attribution, source and value reports over HTTP")
struct SourceReportRoutesTests {
    /// Three leads through the real routes (days before now, so that every touch stays in the 90-day lookback):
    /// - ana: a paid search click (campaign spring) 30 days ago, an email click 26 days ago, orders of 300 (21 days
    ///   ago) and 100 (11 days ago);
    /// - bo: a visit from LinkedIn 29 days ago, a direct visit 28 days ago, nothing bought;
    /// - cy: a paid search click (campaign autumn) 27 days ago, then moved to customer by hand with a deal of 500;
    /// - paid search cost 300 EUR over the 30 days that ended yesterday.
    static func seed(client: some TestClientProtocol, harness: APIHarness) async throws {
        for email in ["ana@acme.example", "bo@acme.example", "cy@acme.example"] {
            let answer = try await client.send(
                .put,
                "/v1/leads",
                key: .ingest,
                harness: harness,
                json: ["email": .string(email)]
            )
            #expect(answer.status == .created, "\(answer.text)")
        }
        func paid(_ campaign: String) -> JSONValue {
            [
                "campaign": ["source": "google", "medium": "cpc", "name": .string(campaign)],
                "page": ["url": "https://acme.example/pricing"],
            ]
        }
        let events: [(String, String, String, JSONValue, JSONValue)] = [
            ("ana", "page_viewed", ago(30), [:], paid("spring")),
            ("ana", "email_clicked", ago(26), [:], [:]),
            ("ana", "order_completed", ago(21), ["revenue": 300], [:]),
            ("ana", "order_completed", ago(11), ["revenue": "100"], [:]),
            (
                "bo", "page_viewed", ago(29), [:],
                ["page": ["url": "https://acme.example/", "referrer": "https://www.linkedin.com/feed"]]
            ),
            ("bo", "page_viewed", ago(28), [:], ["page": ["url": "https://acme.example/"]]),
            ("cy", "page_viewed", ago(27), [:], paid("autumn")),
        ]
        let batch: [JSONValue] = events.map { name, type, time, properties, context in
            [
                "type": .string(type), "lead": ["email": .string("\(name)@acme.example")],
                "timestamp": .string(time), "properties": properties, "context": context,
            ]
        }
        let answer = try await client.send(
            .post,
            "/v1/events",
            key: .ingest,
            harness: harness,
            json: ["batch": .array(batch)]
        )
        #expect(answer.status == .ok, "\(answer.text)")
        #expect(!answer.text.contains("rejected"), "\(answer.text)")
        let cy = try #require(try await harness.storage.leads.find(email: EmailAddress("cy@acme.example")!))
        let won = try await client.send(
            .post,
            "/v1/leads/\(cy.id)/stage",
            key: .sales,
            harness: harness,
            json: ["stage": "customer", "value": 500]
        )
        #expect(won.status == .created, "\(won.text)")
        try await CostImport.store(
            [
                ChannelCost(
                    channel: "paid_search",
                    campaign: nil,
                    start: Day(ago(30, day: true))!,
                    end: Day(ago(1, day: true))!,
                    amount: 300,
                    currency: "EUR"
                )
            ],
            in: harness.storage,
            actor: "test",
            at: Date()
        )
    }

    static func rows(_ answer: Answer) -> [String: JSONValue] {
        guard case .array(let rows)? = answer.json["rows"] else { return [:] }
        var byGroup: [String: JSONValue] = [:]
        for row in rows { if case .string(let group)? = row["group"] { byGroup[group] = row } }
        return byGroup
    }

    static func close(_ value: JSONValue?, _ expected: Double) -> Bool {
        guard let number = value?.numberValue else { return false }
        return abs(number - expected) < 1e-9
    }

    @Test("attribution: last touch, linear and exact Markov over stored journeys, as hand-computed")
    func attribution() async throws {
        try await APIHarness.with { harness, client in
            try await Self.seed(client: client, harness: harness)
            let last = try await client.send(
                .get,
                "/v1/reports/attribution?model=last_touch&from=\(ago(60, day: true))",
                key: .read,
                harness: harness
            )
            #expect(last.status == .ok, "\(last.text)")
            #expect(last.json["journeys"] == 3 && last.json["conversions"] == 2 && last.json["value"] == 800)
            #expect(last.json["unattributed_conversions"] == 0)
            var rows = Self.rows(last)
            #expect(Set(rows.keys) == ["paid_search", "email", "organic_social", "direct"])
            #expect(rows["email"]?["conversions"] == 1 && rows["email"]?["value"] == 300)
            #expect(rows["paid_search"]?["conversions"] == 1 && rows["paid_search"]?["value"] == 500)
            #expect(rows["direct"]?["conversions"] == 0)

            let linear = try await client.send(
                .get,
                "/v1/reports/attribution?model=linear&from=\(ago(60, day: true))",
                key: .read,
                harness: harness
            )
            rows = Self.rows(linear)
            #expect(rows["paid_search"]?["conversions"] == 1.5 && rows["paid_search"]?["value"] == 650)
            #expect(rows["email"]?["conversions"] == 0.5 && rows["email"]?["value"] == 150)

            // Paths: paid_search > email (converted, 300), organic_social > direct (null), paid_search (500).
            // P(conversion) = 2/3; without email 1/3 (effect 1/2); without paid_search 0 (effect 1).
            let markov = try await client.send(.get, "/v1/reports/attribution", key: .read, harness: harness)
            #expect(markov.json["model"] == "markov")
            rows = Self.rows(markov)
            #expect(Self.close(rows["email"]?["removal_effect_conversion"], 0.5))
            #expect(Self.close(rows["paid_search"]?["removal_effect_conversion"], 1))
            #expect(Self.close(rows["paid_search"]?["conversions"], 4.0 / 3))
            #expect(Self.close(rows["email"]?["conversions"], 2.0 / 3))
            #expect(Self.close(rows["direct"]?["conversions"], 0))

            let campaigns = try await client.send(
                .get,
                "/v1/reports/attribution?model=last_touch&by=campaign",
                key: .read,
                harness: harness
            )
            rows = Self.rows(campaigns)
            #expect(rows["autumn"]?["value"] == 500 && rows["(not set)"]?["value"] == 300, "\(campaigns.text)")

            // Only the conversions of the period: ana's first order (21 days ago) is in, cy's deal (today) is not.
            let november = try await client.send(
                .get,
                "/v1/reports/attribution?model=first_touch&from=\(ago(31))&to=\(ago(15))",
                key: .read,
                harness: harness
            )
            #expect(november.json["conversions"] == 1 && november.json["value"] == 300, "\(november.text)")
            #expect(Self.rows(november)["paid_search"]?["value"] == 300)
        }
    }

    @Test("the document's channel rules come before the default grouping")
    func channelRules() async throws {
        try await APIHarness.with { harness, client in
            try await Self.seed(client: client, harness: harness)
            _ = try await CriteriaAdministration(storage: harness.storage, logger: APIHarness.logger).apply(
                testCriteria + """

                    channels:
                      - { channel: partner, where: { field: context.campaign.name, eq: autumn } }
                    """,
                author: "test",
                comment: nil,
                at: Date()
            )
            // Until the leads' touchpoints are derived again, the report counts them as they were, and says so.
            let before = try await client.send(
                .get,
                "/v1/reports/attribution?model=last_touch",
                key: .read,
                harness: harness
            )
            let leads = try await harness.storage.leads.count()
            #expect(before.json["touchpoints_pending"] == .number(Double(leads)), "\(before.text)")
            #expect(Self.rows(before)["partner"] == nil, "\(before.text)")
            // The rescoring that follows a criteria change (calor-server's background task) derives them again.
            let summary = try await Rescoring(storage: harness.storage, logger: APIHarness.logger)
                .rescoreStale(at: Date())
            #expect(summary.leads == leads)
            let answer = try await client.send(
                .get,
                "/v1/reports/attribution?model=last_touch",
                key: .read,
                harness: harness
            )
            let rows = Self.rows(answer)
            #expect(rows["partner"]?["value"] == 500 && rows["paid_search"]?["value"] == 0, "\(answer.text)")
            #expect(answer.json["touchpoints_pending"] == 0, "\(answer.text)")
        }
    }

    @Test("sources: leads by acquisition source, attributed revenue, prorated cost, cost per lead, ROI and ROAS")
    func sources() async throws {
        try await APIHarness.with { harness, client in
            try await Self.seed(client: client, harness: harness)
            let answer = try await client.send(
                .get,
                "/v1/reports/sources?model=last_touch&from=\(ago(60, day: true))",
                key: .read,
                harness: harness
            )
            #expect(answer.status == .ok, "\(answer.text)")
            #expect(answer.json["currency"] == "EUR")
            let rows = Self.rows(answer)
            let paid = try #require(rows["paid_search"])
            #expect(paid["leads"] == 2 && paid["mqls"] == 2 && paid["customers"] == 2)
            #expect(paid["revenue"] == 500 && paid["cost"] == 300)
            #expect(paid["cost_per_lead"] == 150 && paid["cost_per_mql"] == 150 && paid["cost_per_customer"] == 150)
            #expect(Self.close(paid["roi"], 200.0 / 300) && Self.close(paid["roas"], 500.0 / 300))
            let social = try #require(rows["organic_social"])
            #expect(social["leads"] == 1 && social["customers"] == 0 && social["cost"] == .null)
            #expect(rows["email"]?["leads"] == 0 && rows["email"]?["revenue"] == 300)
            if case .number(let share)? = paid["hot_share"] { #expect((0...1).contains(share)) }

            // Half of the cost's days: half the cost; leads created today are outside the period.
            let half = try await client.send(
                .get,
                "/v1/reports/sources?from=\(ago(30, day: true))&to=\(ago(16, day: true))",
                key: .read,
                harness: harness
            )
            let halfPaid = try #require(Self.rows(half)["paid_search"])
            #expect(halfPaid["cost"] == 150 && halfPaid["leads"] == 0 && halfPaid["cost_per_lead"] == .null)

            try await harness.storage.costs.replace([
                ChannelCost(
                    channel: "email",
                    campaign: nil,
                    start: Day(ago(5, day: true))!,
                    end: Day(ago(5, day: true))!,
                    amount: 5,
                    currency: "USD"
                )
            ])
            let mixed = try await client.send(.get, "/v1/reports/sources", key: .read, harness: harness)
            #expect(mixed.status == .unprocessableContent && mixed.text.contains("EUR, USD"), "\(mixed.text)")
        }
    }

    @Test("value: repeat-purchase rate, average order, orders per customer, lifetime value, by channel and cohort")
    func value() async throws {
        try await APIHarness.with { harness, client in
            try await Self.seed(client: client, harness: harness)
            let answer = try await client.send(.get, "/v1/reports/value?by=channel", key: .read, harness: harness)
            #expect(answer.status == .ok, "\(answer.text)")
            let paid = try #require(Self.rows(answer)["paid_search"])
            #expect(paid["customers"] == 2 && paid["repeat_customers"] == 1 && paid["orders"] == 3)
            #expect(paid["revenue"] == 900 && paid["repeat_purchase_rate"] == 0.5 && paid["average_order_value"] == 300)
            #expect(paid["orders_per_customer"] == 1.5 && paid["lifetime_value"] == 450)

            let cohorts = try await client.send(.get, "/v1/reports/value?cohort=month", key: .read, harness: harness)
            guard case .array(let rows)? = cohorts.json["rows"] else {
                Issue.record("no rows: \(cohorts.text)")
                return
            }
            // ana's cohort is the month of her first order (21 days ago), cy's this month: one row or two.
            let anaMonth = String(ago(21).prefix(7)) + "-01T00:00:00Z"
            let thisMonth = String(ago(0).prefix(7)) + "-01T00:00:00Z"
            #expect(rows.first?["cohort"] == .string(anaMonth))
            if anaMonth == thisMonth {
                #expect(rows.count == 1 && rows.first?["lifetime_value"] == 450)
            } else {
                #expect(rows.count == 2 && rows.first?["lifetime_value"] == 400 && rows.last?["lifetime_value"] == 500)
            }
        }
    }

    @Test("bad parameters are refused with the parameter named")
    func badParameters() async throws {
        try await APIHarness.with { harness, client in
            for (uri, parameter) in [
                ("/v1/reports/attribution?model=magic", "model"),
                ("/v1/reports/attribution?by=attributes.industry", "by"),
                ("/v1/reports/attribution?model=markov&order=9", "order"),
                ("/v1/reports/attribution?model=time_decay&half_life=soon", "half_life"),
                ("/v1/reports/sources?from=yesterday", "from"),
                ("/v1/reports/value?cohort=year", "cohort"),
                ("/v1/reports/value?model=markov", "model"),
            ] {
                let answer = try await client.send(.get, uri, key: .read, harness: harness)
                #expect(answer.status == .badRequest, "\(uri): \(answer.text)")
                #expect(answer.text.contains(parameter), "\(uri): \(answer.text)")
            }
            let ingest = try await client.send(.get, "/v1/reports/sources", key: .ingest, harness: harness)
            #expect(ingest.status == .forbidden)
        }
    }
}

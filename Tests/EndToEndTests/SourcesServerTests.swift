import Domain
import Foundation
import Testing

@Suite("Costs, attribution, sources and value through calor-server and calor, as processes", .serialized)
struct SourcesServerTests {
    /// The RFC 3339 time `days` days ago (UTC), or its day.
    static func ago(_ days: Double, day: Bool = false) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        let text = formatter.string(from: Date().addingTimeInterval(-days * 86_400))
        return day ? String(text.prefix(10)) : text
    }

    @Test(
        "costs import with a bad row, re-import replaces; attribution, sources and value agree between API and CLI",
        arguments: ServerHarness.Backend.allCases
    )
    func sources(backend: ServerHarness.Backend) async throws {
        guard let harness = try await ServerHarness.start(backend) else { return }
        let search: JSONValue = ["campaign": ["source": "google", "medium": "cpc", "name": "spring"]]
        let events: [JSONValue] = [
            [
                "type": "page_viewed", "lead": ["email": "ana@acme.example"], "timestamp": .string(Self.ago(20)),
                "context": search,
            ],
            ["type": "email_clicked", "lead": ["email": "ana@acme.example"], "timestamp": .string(Self.ago(15))],
            [
                "type": "order_completed", "lead": ["email": "ana@acme.example"], "timestamp": .string(Self.ago(10)),
                "properties": ["revenue": 200],
            ],
            [
                "type": "order_completed", "lead": ["email": "ana@acme.example"], "timestamp": .string(Self.ago(5)),
                "properties": ["revenue": 100],
            ],
            [
                "type": "page_viewed", "lead": ["email": "bo@acme.example"], "timestamp": .string(Self.ago(12)),
                "context": search,
            ],
        ]
        for email in ["ana@acme.example", "bo@acme.example"] {
            let answer = try await harness.send("PUT", "/v1/leads", key: .ingest, json: ["email": .string(email)])
            #expect(answer.status == 201, "\(answer.text)")
        }
        let sent = try await harness.send("POST", "/v1/events", key: .ingest, json: ["batch": .array(events)])
        #expect(sent.status == 200 && !sent.text.contains("rejected"), "\(sent.text)")

        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = scratch.path("costs.csv")
        let (first, last) = (Self.ago(20, day: true), Self.ago(1, day: true))
        try """
        channel,campaign,start_date,end_date,amount,currency
        paid_search,spring,\(first),\(last),100.00,EUR
        paid_search,,\(first),\(last),-5,EUR
        email,,\(last),\(first),10,EUR
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let partial = try RunningProcess("calor", ["costs", "import", file, "--database", harness.database])
        #expect(try await partial.exitCode() == 1)
        #expect(partial.text.contains("line 3: amount '-5' is not a number"), "\(partial.text)")
        #expect(partial.text.contains("line 4: end_date is before start_date"), "\(partial.text)")
        #expect(partial.text.contains("imported 1 cost; 2 refused"), "\(partial.text)")
        try "channel,campaign,start_date,end_date,amount,currency\npaid_search,spring,\(first),\(last),80,eur\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        #expect(
            try await ServerHarness.calor(["costs", "import", file], database: harness.database) == "imported 1 cost\n"
        )
        let listed = try JSONValue(
            parsing: try await ServerHarness.calor(["costs", "list", "--format", "json"], database: harness.database)
        )
        #expect(listed.arrayValue.count == 1 && listed.arrayValue.first?["amount"] == "80", "\(listed)")
        #expect(listed.arrayValue.first?["currency"] == "EUR" && listed.arrayValue.first?["campaign"] == "spring")

        // ana: paid search then email, converted 10 days ago (200), ordered again (100); bo: paid search, no order.
        let cli = try JSONValue(
            parsing: try await ServerHarness.calor(
                ["report", "attribution", "--model", "linear", "--format", "json"],
                database: harness.database
            )
        )
        let api = try await harness.send("GET", "/v1/reports/attribution?model=linear", key: .read)
        #expect(api.status == 200 && cli["rows"] == api.json["rows"], "\(api.text)")
        #expect(cli["conversions"] == 1 && cli["value"] == 200 && cli["journeys"] == 2)
        let credit = Dictionary(
            uniqueKeysWithValues: (cli["rows"]?.arrayValue ?? []).map { ($0["group"]?.stringValue ?? "", $0) }
        )
        #expect(credit["paid_search"]?["value"] == 100 && credit["email"]?["value"] == 100, "\(cli)")

        let sources = try await ServerHarness.calor(
            ["report", "sources", "--model", "first_touch", "--by", "campaign", "--format", "csv"],
            database: harness.database
        )
        let lines = sources.split(separator: "\n").map(String.init)
        #expect(
            lines.first
                == "campaign,leads,mqls,customers,hot share,conversions,revenue,cost,per lead,per mql,per customer,roi,roas"
        )
        // spring: both leads, one customer, 200 of revenue against 80 of cost.
        #expect(
            lines.contains { $0.hasPrefix("spring,2,1,1,") && $0.hasSuffix(",200,80,40,80,80,1.5,2.5") },
            "\(sources)"
        )

        let value = try JSONValue(
            parsing: try await ServerHarness.calor(
                ["report", "value", "--by", "channel", "--format", "json"],
                database: harness.database
            )
        )
        let valueAPI = try await harness.send("GET", "/v1/reports/value?by=channel", key: .read)
        #expect(value["rows"] == valueAPI.json["rows"])
        let row = value["rows"]?.arrayValue.first
        #expect(row?["group"] == "paid_search" && row?["orders"] == 2 && row?["lifetime_value"] == 300, "\(value)")
        #expect(row?["repeat_purchase_rate"] == 1)
        try await harness.stop()
    }
}

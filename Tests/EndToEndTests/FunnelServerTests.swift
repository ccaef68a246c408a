import Domain
import Foundation
import Testing

@Suite("The funnel through calor-server and calor, as processes", .serialized)
struct FunnelServerTests {
    @Test(
        "automation with ingestion, a manual move with calor leads stage, the reports by API and CLI agree",
        arguments: ServerHarness.Backend.allCases
    )
    func funnel(backend: ServerHarness.Backend) async throws {
        guard let harness = try await ServerHarness.start(backend) else { return }
        for (email, channel) in [
            ("ana@acme.example", "email"), ("bo@acme.example", "ads"), ("cy@acme.example", "email"),
        ] {
            let answer = try await harness.send(
                "PUT",
                "/v1/leads",
                key: .ingest,
                json: [
                    "email": .string(email), "source": ["channel": .string(channel)],
                    "attributes": ["company_size": 500],
                ]
            )
            #expect(answer.status == 201, "\(answer.text)")
        }
        // ana: 30 + 40 = 70, hot, so an MQL in the same commit; bo orders: a customer.
        let events = try await harness.send(
            "POST",
            "/v1/events",
            key: .ingest,
            json: [
                "batch": [
                    ["type": "quote_requested", "lead": ["email": "ana@acme.example"]],
                    ["type": "order_completed", "lead": ["email": "bo@acme.example"], "properties": ["revenue": 90]],
                ]
            ]
        )
        #expect(events.status == 200, "\(events.text)")
        let ana = try await harness.send("GET", "/v1/leads?email=ana@acme.example", key: .read)
        #expect(ana.json["data"]?.arrayValue.first?["stage"] == "mql")

        let moved = try await ServerHarness.calor(
            ["leads", "stage", "cy@acme.example", "lost", "--reason", "chose a rival", "--format", "json"],
            database: harness.database
        )
        #expect(try JSONValue(parsing: moved)["transition"]?["to"] == "lost")
        let again = try await ServerHarness.calor(
            ["leads", "stage", "cy@acme.example", "lost"],
            database: harness.database
        )
        #expect(again.contains("nothing changed"))
        let shown = try await ServerHarness.calor(["leads", "show", "cy@acme.example"], database: harness.database)
        #expect(shown.contains("Stage history") && shown.contains("chose a rival"), "\(shown)")

        let cli = try JSONValue(
            parsing: try await ServerHarness.calor(
                ["report", "funnel", "--by", "channel", "--format", "json"],
                database: harness.database
            )
        )
        let api = try await harness.send("GET", "/v1/reports/funnel?by=channel", key: .read)
        #expect(api.status == 200)
        #expect(cli["rows"] == api.json["rows"])
        let rows = cli["rows"]?.arrayValue ?? []
        #expect(rows.map { $0["group"] } == ["ads", "email"])
        let reached = rows.map { row in (row["stages"]?.arrayValue ?? []).map { $0["reached"]?.numberValue ?? -1 } }
        #expect(reached == [[1, 1, 1, 1, 1, 1], [2, 2, 1, 0, 0, 0]])

        let table = try await ServerHarness.calor(["report", "funnel"], database: harness.database)
        #expect(table.contains("subscriber") && table.contains("66.7%"), "\(table)")
        let csv = try await ServerHarness.calor(
            ["report", "temperatures", "--by", "channel", "--format", "csv"],
            database: harness.database
        )
        let lines = csv.split(separator: "\n").map(String.init)
        #expect(lines.first == "channel,total,cold,warm,hot,disqualified,unscored,hot share")
        #expect(lines.contains("email,2,0,1,1,0,0,0.5"), "\(csv)")
        #expect(lines.contains("ads,1,0,1,0,0,0,0"), "\(csv)")
        try await harness.stop()
    }
}

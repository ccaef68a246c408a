import Domain
import Foundation
import Scoring
import Testing

/// `calor leads import` and `calor events import` against both backends, through the built binary.
@Suite("History imports, end to end")
struct HistoryImportTests {
    static let leads = """
        email,external_id,company_size,industry,created_at,updated_at
        ana@hist.example,crm-1,250,software,2026-01-05,2026-01-20T08:00:00Z
        bo@hist.example,crm-2,20,retail,2026-01-06,
        broken,crm-3,5,x,2026-01-07,

        """

    static let events = """
        {"type":"quote_requested","lead":{"email":"ana@hist.example"},"timestamp":"2026-02-01T10:00:00Z"}
        {"type":"page_viewed","lead":{"external_id":"crm-2"},"timestamp":"2026-02-02T10:00:00Z","message_id":"p1"}
        {"type":"page_viewed","lead":{"external_id":"crm-2"},"timestamp":"2026-02-03T10:00:00Z","message_id":"p2"}
        {"type":"email_opened","lead":{"email":"cy@hist.example"},"timestamp":"2026-02-04T10:00:00Z"}
        {"type":"page_viewed"}
        {"type":"page_viewed","lead":{"email":"ana@hist.example"}}

        """

    func run(_ arguments: [String], database: String) async throws -> (Int32, String) {
        let process = try RunningProcess("calor", arguments + ["--database", database])
        return (try await process.exitCode(), process.text)
    }

    func total(_ email: String, database: String) async throws -> Double? {
        let output = try await ServerHarness.calor(["leads", "show", email, "--format", "json"], database: database)
        return try JSONValue(parsing: output)["score"]?["total"]?.numberValue
    }

    @Test(
        "leads and events go in with their times, bad lines by number; again: nothing twice",
        arguments: ServerHarness.Backend.allCases
    )
    func imports(backend: ServerHarness.Backend) async throws {
        guard let harness = try await ServerHarness.start(backend) else { return }
        let leadsFile = harness.scratch.path("leads.csv")
        let eventsFile = harness.scratch.path("events.ndjson")
        try Self.leads.write(toFile: leadsFile, atomically: true, encoding: .utf8)
        try Self.events.write(toFile: eventsFile, atomically: true, encoding: .utf8)

        let (leadsCode, leadsOutput) = try await run(["leads", "import", leadsFile], database: harness.database)
        #expect(leadsCode == 1)
        #expect(leadsOutput.contains("imported 2 leads from 3 rows; 1 refused"), "\(leadsOutput)")
        #expect(leadsOutput.contains("leads.csv, line 4: 'broken' is not an email address"), "\(leadsOutput)")

        let (code, output) = try await run(["events", "import", eventsFile], database: harness.database)
        #expect(code == 1)
        #expect(output.contains("imported 4 events from 6 rows; 2 refused"), "\(output)")
        #expect(output.contains("rescored 3 leads"), "\(output)")
        #expect(output.contains("events.ndjson, line 5:"), "\(output)")
        #expect(output.contains("events.ndjson, line 6: the event has no timestamp"), "\(output)")
        // The harness's criteria: big company 30, quote 40, visits 2 each (cap 10), opens 1; no decay.
        #expect(try await total("ana@hist.example", database: harness.database) == 70)
        #expect(try await total("bo@hist.example", database: harness.database) == 4)
        #expect(try await total("cy@hist.example", database: harness.database) == 1)

        let (again, againOutput) = try await run(["events", "import", eventsFile], database: harness.database)
        #expect(again == 1)
        #expect(againOutput.contains("imported 0 events from 6 rows; 4 already stored; 2 refused"), "\(againOutput)")
        let (json, jsonOutput) = try await run(
            ["events", "import", eventsFile, "--format", "json"],
            database: harness.database
        )
        #expect(json == 1)
        let summary = try JSONValue(
            parsing: String(jsonOutput.split(separator: "\n").first { $0.hasPrefix("{") } ?? "")
        )
        #expect(summary["rows"] == 6 && summary["imported"] == 0 && summary["already_stored"] == 4)
        #expect(summary["refused"]?.arrayValue.map { $0["line"] } == [5, 6], "\(jsonOutput)")
        let found = try await harness.send("GET", "/v1/leads?email=bo@hist.example", key: .read)
        let id = try #require(found.json["data"]?.arrayValue.first?["id"]?.stringValue)
        let timeline = try await harness.send("GET", "/v1/leads/\(id)/events", key: .read)
        #expect(timeline.json["data"]?.arrayValue.map { $0["message_id"]?.stringValue ?? "" } == ["p2", "p1"])
        // The server, live meanwhile, scores a new event on top of the imported ones exactly.
        let live = try await harness.send(
            "POST",
            "/v1/events",
            key: .ingest,
            json: ["type": "quote_requested", "lead": ["email": "bo@hist.example"]]
        )
        #expect(live.status == 202)
        #expect(try await total("bo@hist.example", database: harness.database) == 44)
        try await harness.stop()
    }
}

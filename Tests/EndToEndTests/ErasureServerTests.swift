import Domain
import Foundation
import Testing

/// Erasure end to end (SPEC §11): the real server and CLI on both backends, and a scan of everything the database
/// holds afterwards: SQLite's files byte by byte, PostgreSQL's whole dump (every table, including any added later).
@Suite("Erasure, end to end")
struct ErasureServerTests {
    static let configuration = """
        webhooks:
          allow_private_targets: true
          retry_schedule: [1h]
        """

    /// Whether the text appears anywhere in the database: SQLite's file and write-ahead log (every byte), or
    /// PostgreSQL's data as pg_dump writes it (every table).
    static func databaseHolds(
        _ needles: [String],
        harness: ServerHarness,
        backend: ServerHarness.Backend
    ) async throws
        -> [String]
    {
        var haystack = Data()
        switch backend {
        case .sqlite:
            for suffix in ["", "-wal"] {
                if let data = FileManager.default.contents(atPath: harness.database + suffix) { haystack.append(data) }
            }
        case .postgres:
            let (status, dump) = try await ServerHarness.runTool(
                "/usr/bin/env",
                ["pg_dump", "--data-only", harness.database]
            )
            guard status == 0 else { throw ProcessFailure("pg_dump failed: \(dump)") }
            haystack = Data(dump.utf8)
        }
        #expect(haystack.count > 1_000, "the scan read the database")
        return needles.filter { haystack.range(of: Data($0.utf8)) != nil }
    }

    @Test(
        "erase removes every trace of the person from every table, keeps a suppression, and later data is refused",
        arguments: ServerHarness.Backend.allCases
    )
    func erase(backend: ServerHarness.Backend) async throws {
        guard let harness = try await ServerHarness.start(backend, configuration: Self.configuration) else { return }
        let email = "erase.me.\(UInt32.random(in: 0...UInt32.max))@privacy.example"
        let externalID = "crm-\(UUID().uuidString)"
        let visitor = "visitor-\(UUID().uuidString)"
        // A subscribed endpoint nobody answers: the person's messages wait in the outbox.
        let hook = try await harness.send(
            "POST",
            "/v1/webhooks",
            key: .admin,
            json: ["url": "http://127.0.0.1:9/nobody", "events": ["lead.temperature_changed", "lead.stage_changed"]]
        )
        #expect(hook.status == 201, "\(hook.text)")

        // The person, with a past as a visitor, events, a score, a manual move.
        _ = try await harness.send(
            "POST",
            "/v1/events",
            key: .ingest,
            json: [
                "type": "page_viewed", "anonymous_id": .string(visitor), "properties": ["email_seen": .string(email)],
            ]
        )
        let upsert = try await harness.send(
            "PUT",
            "/v1/leads",
            key: .ingest,
            json: [
                "email": .string(email), "external_id": .string(externalID), "anonymous_id": .string(visitor),
                "attributes": ["company_size": 500, "note": .string("contact \(email)")],
            ]
        )
        #expect(upsert.status == 201, "\(upsert.text)")
        let id = try #require(upsert.json["id"]?.stringValue)
        _ = try await harness.send(
            "POST",
            "/v1/events",
            key: .ingest,
            json: ["type": "quote_requested", "lead": ["email": .string(email)]]
        )
        let move = try await harness.send(
            "POST",
            "/v1/leads/\(id)/stage",
            key: .admin,
            json: ["stage": "sql", "reason": "called"]
        )
        #expect(move.status == 201, "\(move.text)")
        let someoneElse = try await harness.send(
            "PUT",
            "/v1/leads",
            key: .ingest,
            json: ["email": "stays@privacy.example"]
        )
        #expect(someoneElse.status == 201)
        #expect(try await Self.databaseHolds([email], harness: harness, backend: backend) == [email], "stored before")

        // An access request: everything held on the person, over HTTP (admin) and from the CLI.
        let exported = try await harness.send("GET", "/v1/leads/\(id)/export", key: .admin)
        #expect(exported.status == 200, "\(exported.text)")
        #expect(exported.json["lead"]?["email"]?.stringValue == email)
        #expect(exported.json["lead"]?["anonymous_ids"] == [.string(visitor)])
        #expect(exported.json["lead"]?["stage_history"]?.arrayValue.last?["to"] == "sql")
        #expect(exported.json["lead"]?["score"]?["explanation"]?.arrayValue.isEmpty == false)
        #expect(exported.json["events"]?.arrayValue.map { $0["type"] } == ["page_viewed", "quote_requested"])
        #expect(try await harness.send("GET", "/v1/leads/\(id)/export", key: .read).status == 403)
        let printed = try JSONValue(
            parsing: try await ServerHarness.calor(["leads", "export-data", email], database: harness.database)
        )
        #expect(printed["lead"]?["id"]?.stringValue == id)
        #expect(printed["events"]?.arrayValue.count == 2)

        // Only an admin erases.
        let refused = try await harness.send("DELETE", "/v1/leads/\(id)", key: .sales)
        #expect(refused.status == 403)
        let erased = try await harness.send("DELETE", "/v1/leads/\(id)", key: .admin)
        #expect(erased.status == 200, "\(erased.text)")
        #expect(erased.json["suppressed_identities"] == 3)
        let again = try await harness.send("DELETE", "/v1/leads/\(id)", key: .admin)
        #expect(again.status == 404)
        #expect(try await harness.send("GET", "/v1/leads/\(id)/export", key: .admin).status == 404)

        // No trace in any table, nor in the files.
        #expect(try await Self.databaseHolds([email, externalID, visitor], harness: harness, backend: backend) == [])
        let gone = try await harness.send("GET", "/v1/leads/\(id)", key: .read)
        #expect(gone.status == 404)
        let listed = try await harness.send("GET", "/v1/leads", key: .read)
        #expect(listed.json["data"]?.arrayValue.count == 1)

        // Later data for the person is answered suppressed and stored nowhere.
        let event = try await harness.send(
            "POST",
            "/v1/events",
            key: .ingest,
            json: ["type": "page_viewed", "lead": ["email": .string(email.uppercased())]]
        )
        #expect(event.status == 200 && event.json["status"] == "suppressed", "\(event.text)")
        let batch = try await harness.send(
            "POST",
            "/v1/events",
            key: .ingest,
            json: [
                "batch": [
                    ["type": "page_viewed", "anonymous_id": .string(visitor)],
                    ["type": "page_viewed", "lead": ["external_id": .string(externalID)]],
                    ["type": "page_viewed", "lead": ["email": "new@privacy.example"]],
                ]
            ]
        )
        #expect(batch.json["results"]?.arrayValue.map { $0["status"] } == ["suppressed", "suppressed", "accepted"])
        let upsertAgain = try await harness.send("PUT", "/v1/leads", key: .ingest, json: ["email": .string(email)])
        #expect(upsertAgain.status == 200 && upsertAgain.json["status"] == "suppressed", "\(upsertAgain.text)")
        let segment = try await harness.send(
            "POST",
            "/v1/identify",
            key: .ingest,
            json: ["userId": .string(externalID), "traits": ["email": .string(email)]]
        )
        #expect(segment.status == 200)
        #expect(try await Self.databaseHolds([email, externalID, visitor], harness: harness, backend: backend) == [])

        // The audit log names the lead and the actor, not the person.
        let audit = try await ServerHarness.calor(["leads", "list", "--format", "json"], database: harness.database)
        #expect(!audit.contains(email))

        // Lifted by the CLI: the email is accepted again.
        try await ServerHarness.calor(["leads", "unsuppress", email], database: harness.database)
        let back = try await harness.send("PUT", "/v1/leads", key: .ingest, json: ["email": .string(email)])
        #expect(back.status == 201, "\(back.text)")
        // The CLI erases by email too.
        let output = try await ServerHarness.calor(["leads", "erase", email], database: harness.database)
        #expect(output.contains("erased"))
        #expect(
            try await harness.send("PUT", "/v1/leads", key: .ingest, json: ["email": .string(email)]).json["status"]
                == "suppressed"
        )
        try await harness.stop()
    }
}

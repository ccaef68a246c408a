import Domain
import Foundation
import StorageSQLite
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("calor-server, as a process")
struct ServerProcessTests {
    func get(_ url: String) async throws -> (Int, String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    func serve(database: String, in scratch: Scratch) async throws {
        let server = try RunningProcess(
            "calor-server",
            ["--port", "0"],
            environment: ["CALOR_DATABASE_URL": database],
            directory: scratch.url
        )
        let address = try await server.waitFor(#"http\.address=(http://127\.0\.0\.1:\d+)"#)
        #expect(server.text.contains("db.location="))
        let (health, body) = try await get("\(address)/healthz")
        #expect(health == 200)
        #expect(body == #"{"status":"ok"}"#)
        let (ready, _) = try await get("\(address)/readyz")
        #expect(ready == 200)
        server.signal(SIGTERM)
        #expect(try await server.exitCode() == 0)
        #expect(server.text.contains("calor-server stopped"))
    }

    @Test("starts on ./calor.sqlite by default, migrates it, answers, and stops on SIGTERM")
    func defaultDatabase() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try RunningProcess("calor-server", ["--port", "0"], directory: scratch.url)
        let address = try await server.waitFor(#"http\.address=(http://127\.0\.0\.1:\d+)"#)
        #expect(server.text.contains("sqlite:./calor.sqlite"))
        #expect(server.text.contains("0001_initial"))
        #expect(FileManager.default.fileExists(atPath: scratch.path("calor.sqlite")))
        #expect(try await get("\(address)/readyz").0 == 200)
        server.signal(SIGINT)
        #expect(try await server.exitCode() == 0)
    }

    @Test("serves over PostgreSQL with a key=value connection string")
    func postgres() async throws {
        guard let base = ProcessInfo.processInfo.environment["CALOR_TEST_POSTGRES_URL"] else { return }
        let scratch = try Scratch()
        defer { scratch.remove() }
        let database = "calor_e2e_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try RunningProcess("calor", ["migrate", "--status", "--database", base])
        #expect(try await admin.exitCode() == 0)
        try await ServerHarness.psql(base, "CREATE DATABASE \(database)")
        try await serve(
            database: "\(base.replacingOccurrences(of: "dbname=postgres", with: "dbname=\(database)"))",
            in: scratch
        )
    }

    @Test("refuses an unusable database with one line and exit code 1")
    func unusableDatabase() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try RunningProcess("calor-server", ["--database", "/nonexistent-calor/db.sqlite"])
        #expect(try await server.exitCode() == 1)
        let lines = server.text.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("/nonexistent-calor/db.sqlite") == true)
    }

    @Test("a usage error exits with 2")
    func usageError() async throws {
        let server = try RunningProcess("calor-server", ["--port", "not-a-number"])
        #expect(try await server.exitCode() == 2)
    }
}

@Suite("calor-server, background scoring")
struct ServerBackgroundScoringTests {
    @Test("a new database gets the default criteria, and the server scores leads it finds unscored")
    func backgroundRescoring() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let database = scratch.path("bg.sqlite")
        let server = try RunningProcess(
            "calor-server",
            ["--port", "0", "--database", database],
            environment: ["CALOR_RESCORE_POLL": "200ms"]
        )
        _ = try await server.waitFor(#"http\.address=(http://127\.0\.0\.1:\d+)"#)

        // Another process (here: this test) writes a lead straight into the database, with no score.
        let storage = try SQLiteStorage(configuration: SQLiteConfiguration(path: database))
        #expect(try await storage.criteria.active()?.author == "calor")
        let lead = try await storage.leads.upsert(
            LeadUpsert(
                email: EmailAddress("buyer@bigco.example"),
                externalID: nil,
                attributes: ["industry": "software", "company_size": 500, "budget": 60_000, "country": "FR"]
            )!,
            at: Date()
        ).lead
        var score: Score?
        for _ in 0..<100 {
            score = try await storage.scores.score(of: lead.id)
            if score != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let found = try #require(score, "the server scored the lead within 10 s")
        #expect(found.fit == 40)  // target-sector 10 + large-company 10 + large-budget 15 + served-country 5
        #expect(found.grade == .a)
        #expect(found.criteriaVersion == CriteriaVersion.Number(1))
        await storage.close()
        server.signal(SIGTERM)
        #expect(try await server.exitCode() == 0)
    }
}

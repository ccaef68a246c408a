import Core
import Domain
import Foundation
import Testing

@Suite("CSV, read a chunk at a time")
struct CSVParserTests {
    static let text =
        "\u{FEFF}name,notes\r\n\"Acme, Inc.\",\"said \"\"hi\"\"\nthen left\"\r\nBeta,\n,\nlast,no break"

    @Test("quotes, doubled quotes, line breaks in fields, CRLF, a byte-order mark, a last line without a break")
    func records() {
        var parser = CSVParser()
        let records = parser.feed(Array(Self.text.utf8)) + parser.finish()
        #expect(records.map(\.line) == [1, 2, 4, 5, 6])
        #expect(
            records.map(\.fields) == [
                ["name", "notes"], ["Acme, Inc.", "said \"hi\"\nthen left"], ["Beta", ""], ["", ""],
                ["last", "no break"],
            ]
        )
    }

    @Test("records do not depend on where the chunks end")
    func chunkBoundaries() {
        var whole = CSVParser()
        let expected = (whole.feed(Array(Self.text.utf8)) + whole.finish()).map { "\($0.line):\($0.fields)" }
        for size in 1...7 {
            var parser = CSVParser()
            var records: [(line: Int, fields: [String])] = []
            let bytes = Array(Self.text.utf8)
            for start in stride(from: 0, to: bytes.count, by: size) {
                records += parser.feed(bytes[start..<min(start + size, bytes.count)])
            }
            records += parser.finish()
            #expect(records.map { "\($0.line):\($0.fields)" } == expected, "chunks of \(size)")
        }
    }
}

@Suite("calor leads import: a CRM's history in")
struct LeadImportTests {
    static let csv = """
        Email Address,external_id,Company Name,industry,company_size,created_at,updated_at,source.channel,Notes
        ana@acme.example,crm-1,Acme,software,250,2026-01-10,2026-02-01T09:00:00Z,paid_search,call back
        bo@beta.example,,Beta,"fintech, banking",40,2026-01-12,,email,
        not-an-email,crm-3,Gamma,retail,10,2026-01-15,,,
        dan@delta.example,crm-4,Delta,software,1200,yesterday,,,
        ,,Nobody,,,,,,
        eve@epsilon.example,crm-5,"Epsilon ""E\""",software,300,2026-02-01,,organic_search,

        """
    static let maps = ["Email Address": "email", "Company Name": "company.name", "Notes": "-"]

    func write(_ text: String, in world: World) throws -> String {
        let path = world.folder.appendingPathComponent("import-\(UUID().uuidString).csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("good rows go in with their times and nested attributes; bad ones are reported by line; again: no change")
    func importsRows() async throws {
        let world = try await World()
        _ = try await world.administration.apply(incrementalCriteria, author: "t", comment: nil, at: World.now)
        let path = try write(Self.csv, in: world)
        let importer = LeadImport(storage: world.storage, clock: .fixed(World.now))
        let summary = try await importer.run(path: path, maps: Self.maps)
        #expect(summary.rows == 6 && summary.imported == 3)
        #expect(
            summary.problems.map(\.description) == [
                "line 4: 'not-an-email' is not an email address",
                "line 5: 'yesterday' is not a time (2026-03-01T09:30:00Z) or a day (2026-03-01)",
                "line 6: the row has neither an email nor an external id",
            ]
        )
        let ana = try #require(try await world.storage.leads.find(email: EmailAddress("ana@acme.example")!))
        #expect(ana.externalID == "crm-1")
        #expect(ana.attributes == ["company": ["name": "Acme"], "industry": "software", "company_size": "250"])
        #expect(ana.createdAt == WireFormat.parseTime("2026-01-10T00:00:00Z"))
        #expect(ana.source == LeadSource(channel: "paid_search", campaign: nil))
        let eve = try #require(try await world.storage.leads.find(email: EmailAddress("eve@epsilon.example")!))
        #expect(eve.attributes["company"] == ["name": "Epsilon \"E\""])
        let history = try await world.storage.leads.attributeHistory(of: [ana.id])[ana.id]
        #expect(history?.complete == true)
        #expect(history?.changes.map(\.at) == [WireFormat.parseTime("2026-02-01T09:00:00Z")!])
        // Scored in the import's unit of work: company_size 250 is worth the fit rule's points.
        #expect(try await world.storage.scores.score(of: ana.id)?.fit == 12.5)

        let audit = try await world.storage.audit.recent(limit: 100).count
        let again = try await LeadImport(storage: world.storage, clock: .fixed(World.now.addingTimeInterval(60)))
            .run(path: path, maps: Self.maps)
        #expect(again.imported == 3 && again.problems.count == 3)
        #expect(try await world.storage.leads.find(ana.id) == ana, "the same file again changes nothing")
        #expect(try await world.storage.leads.attributeHistory(of: [ana.id])[ana.id] == history)
        #expect(try await world.storage.audit.recent(limit: 100).count == audit)
        await world.close()
    }

    @Test("a header without an email or external id, or a --map naming no column, is refused before any row")
    func refusedHeader() async throws {
        let world = try await World()
        let importer = LeadImport(storage: world.storage, clock: .fixed(World.now))
        let noKey = try write("name,industry\nAcme,software\n", in: world)
        await #expect(
            throws: ImportProblem(line: 1, message: "the file needs an email or an external_id column (or --map one)")
        ) {
            try await importer.run(path: noKey, maps: [:])
        }
        let path = try write(Self.csv, in: world)
        await #expect(throws: ImportProblem.self) { try await importer.run(path: path, maps: ["Mail": "email"]) }
        #expect(try await world.storage.leads.count() == 0)
        await world.close()
    }
}

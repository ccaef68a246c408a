import Core
import Domain
import Foundation
import Testing

@Suite("Ad audiences")
struct AudienceTests {
    /// Ana: hot, grade B, in mql, with names, phone and address. Bo: hot, no attributes. Cy: hot, a customer. Di:
    /// hot but without consent. Ed: cold.
    func world() async throws -> World {
        let world = try await World()
        _ = try await world.administration.apply(simpleCriteria, author: "t", comment: nil, at: World.now)
        let cache = CriteriaCache()
        // Scored a minute on: after every lead's creation.
        let later = World.now.addingTimeInterval(60)
        let ingestion = Ingestion(storage: world.storage, cache: cache, clock: .fixed(later))
        let people: [(String, JSONObject, Bool)] = [
            (
                "ana@acme.example",
                [
                    "company_size": 150, "first_name": " Ana ", "last_name": "Silva!", "phone": "+33 6 12 34 56 78",
                    "address": ["city": "Paris", "region": "IDF", "zip": "75 001"], "country": "FR",
                ],
                true
            ),
            ("bo@acme.example", ["company_size": 150], true),
            ("cy@acme.example", ["company_size": 150], true),
            ("di@acme.example", ["company_size": 150, "marketing_consent": false], true),
            ("ed@acme.example", [:], false),
        ]
        for (index, (email, attributes, quote)) in people.enumerated() {
            // A second apart: the export lists leads in the order they were created.
            _ = try await ingestion.upsertLead(
                IncomingIdentity(email: EmailAddress(email), externalID: nil, attributes: attributes)!,
                at: World.now.addingTimeInterval(Double(index))
            )
            if quote {
                _ = try await ingestion.ingest(
                    [
                        .event(
                            IncomingEvent(
                                messageID: MessageID("q-\(email)"),
                                lead: .email(EmailAddress(email)!),
                                anonymousID: nil,
                                type: EventType("quote_requested"),
                                timestamp: later
                            )!
                        )
                    ],
                    receivedAt: later
                )
            }
        }
        let cy = try #require(try await world.storage.leads.find(email: EmailAddress("cy@acme.example")!))
        _ = try await StageMoves(storage: world.storage, cache: cache)
            .move(cy.id, to: .customer, note: nil, value: 100, actor: "t", at: later)
        return world
    }

    func export(
        _ world: World,
        _ filter: AudienceExport.Filter,
        _ format: AudienceExport.Format,
        hashed: Bool = false
    ) async throws -> String {
        var fields = AudienceExport.Fields()
        _ = fields.set("city", to: "address.city")
        _ = fields.set("state", to: "address.region")
        _ = fields.set("zip", to: "address.zip")
        var text = ""
        // Pages of two leads: the export streams.
        try await AudienceExport(storage: world.storage, fields: fields, pageSize: 2).export(
            filter,
            format: format,
            hashed: hashed
        ) { text += $0 }
        return text
    }

    static let hotNotCustomers = AudienceExport.Filter(
        temperatures: [.hot],
        excludedStages: [.customer, .disqualified]
    )

    @Test("the example of the issue: trimmed, lower-cased, hashed")
    func normalisation() {
        let email = AudienceExport.normalizedEmail("  Test@Example.COM ")
        #expect(email == "test@example.com")
        #expect(AudienceExport.sha256(email) == "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b")
    }

    @Test("Google Customer Match, hashed: hot leads, customers and those without consent left out")
    func google() async throws {
        let world = try await world()
        #expect(
            try await export(world, Self.hotNotCustomers, .google, hashed: true) == """
                Email,Phone,First Name,Last Name,Country,Zip
                bb03ba1becc024164cf08e371385b735f89fb22eb310fef60c67c3997c22dcf6,\
                42d573cfc315801d4cd8eddd5416b416a0bf298b9b9e12d6b07442c91db42bd8,\
                24d4b96f58da6d4a8512313bbd02a28ebf0ca95dec6e4c86ef78ce7f01e788ac,\
                d24e913a4107af875dc2ac3d419798f3794d00434e5059fbb68ac8d33626eaee,FR,75001
                35753cea566e54fd01111cc69785f97b3a36f783bac476d2143691e32921bc6e,,,,,

                """
        )
        await world.close()
    }

    @Test("Meta, in clear and hashed")
    func meta() async throws {
        let world = try await world()
        #expect(
            try await export(world, Self.hotNotCustomers, .meta) == """
                email,phone,fn,ln,ct,st,zip,country
                ana@acme.example,+33612345678,ana,silva,paris,idf,75001,fr
                bo@acme.example,,,,,,,

                """
        )
        let hashed = try await export(world, AudienceExport.Filter(grades: [.b]), .meta, hashed: true)
        #expect(
            hashed.split(separator: "\n").dropFirst().first == """
                bb03ba1becc024164cf08e371385b735f89fb22eb310fef60c67c3997c22dcf6,\
                42d573cfc315801d4cd8eddd5416b416a0bf298b9b9e12d6b07442c91db42bd8,\
                24d4b96f58da6d4a8512313bbd02a28ebf0ca95dec6e4c86ef78ce7f01e788ac,\
                d24e913a4107af875dc2ac3d419798f3794d00434e5059fbb68ac8d33626eaee,\
                1670f2e42fefa5044d59a65349e47c566009488fc57d7b4376dd5787b59e3c57,\
                84f1cf20153ffa93b9fb7efed7055a71fc0c3b967ab072801877b928bb83205c,\
                3f089dbdff98360a35193e7d401b76b21f5c0d5d6fb76a28660aaaed83a4c3e3,\
                67ad8f41a7bb0a18c45f3efd8f6a32bdcd832bcf8f3f2eb44006c03d53076e18
                """
        )
        await world.close()
    }

    @Test("CSV and JSON lines carry the score; filters by stage and temperature")
    func csvAndJSONLines() async throws {
        let world = try await world()
        let csv = try await export(world, AudienceExport.Filter(stages: [.customer]), .csv)
        let lines = csv.split(separator: "\n")
        #expect(
            lines.first
                == "email,phone,first_name,last_name,city,state,zip,country,temperature,grade,stage,score,lead_id"
        )
        #expect(lines.count == 2)
        #expect(lines.last?.hasPrefix("cy@acme.example,,,,,,,,hot,B,customer,70,") == true, "\(csv)")
        let jsonl = try await export(world, AudienceExport.Filter(temperatures: [.cold]), .jsonl)
        let objects = try jsonl.split(separator: "\n").map { try JSONValue(parsing: String($0)) }
        #expect(objects.count == 1)
        #expect(objects.first?["email"] == "ed@acme.example")
        #expect(objects.first?["temperature"] == "cold" && objects.first?["score"] == 0)
        await world.close()
    }
}

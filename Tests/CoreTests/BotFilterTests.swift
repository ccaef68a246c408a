import Core
import Domain
import Foundation
import Scoring
import Synchronization
import Testing

let filterCriteria = """
    thresholds: { warm: 20, hot: 60 }
    engagement:
      - { id: clicks, event: email_clicked, points: 5, half_life: 14d }
      - { id: views, event: page_viewed, points: 1 }
    """

/// A small deterministic generator (SplitMix64): the same seed, the same stream.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Bot and scanner filtering at ingestion")
struct BotFilterTests {
    static let googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    static let browser = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"

    /// The `index`th random event: sends and clicks of two emails on three links a quarter second apart, and page
    /// views, some by a crawler.
    static func randomEvent(
        _ index: Int,
        email: String?,
        visitor: String?,
        using random: inout SeededGenerator
    )
        -> IngestItem
    {
        let kind = Int.random(in: 0..<6, using: &random)
        var properties: JSONObject = [:]
        var context: JSONObject = ["userAgent": .string(browser)]
        let type: String
        switch kind {
        case 0:
            type = "email_sent"
            properties["email_id"] = .string("e\(Int.random(in: 1...2, using: &random))")
        case 1, 2, 3:
            type = "email_clicked"
            properties["email_id"] = .string("e\(Int.random(in: 1...2, using: &random))")
            properties["link_url"] = .string("https://x.example/\(["a", "b", "c"].randomElement(using: &random)!)")
        default:
            type = "page_viewed"
            if Bool.random(using: &random) { context["userAgent"] = .string(googlebot) }
        }
        let offset = Double(Int.random(in: 0..<160, using: &random)) * 0.25
        return .event(
            IncomingEvent(
                messageID: MessageID("\(email ?? visitor ?? "")-\(index)"),
                lead: email.map { .email(EmailAddress($0)!) },
                anonymousID: visitor.map { AnonymousID($0) },
                type: EventType(type),
                properties: properties,
                context: context,
                timestamp: World.now.addingTimeInterval(-86_400 + offset)
            )!
        )
    }

    /// Stored flags are what the filters give the lead's stored events, and the stored score is the full computation.
    static func expectConsistent(_ world: World, _ leadID: Lead.ID, seed: UInt64) async throws {
        let criteria = try Criteria(parsing: filterCriteria)
        let events = try await world.storage.events.events(of: leadID)
        let stored = events.map(\.flag)
        #expect(stored == criteria.filters.flags(events), "seed \(seed): stored flags")
        let score = try #require(try await world.storage.scores.score(of: leadID))
        let lead = try #require(try await world.storage.leads.find(leadID))
        let full = criteria.score(lead: lead, events: events, at: score.computedAt)
        #expect(
            full.score(for: leadID, version: score.criteriaVersion, computedAt: score.computedAt) == score,
            "seed \(seed): the stored score against the full computation"
        )
    }

    @Test("random email streams in random batches and orders, with a visitor joining: flags and scores are exact")
    func randomStreams() async throws {
        var scannerFlags = 0
        for seed in UInt64(1)...12 {
            var random = SeededGenerator(state: seed)
            let world = try await World()
            _ = try await world.administration.apply(filterCriteria, author: "t", comment: nil, at: World.now)
            var items = (0..<24).map { Self.randomEvent($0, email: "ana@x.example", visitor: nil, using: &random) }
            items += (24..<32).map { Self.randomEvent($0, email: nil, visitor: "v-\(seed)", using: &random) }
            items.shuffle(using: &random)
            // The visitor becomes Ana somewhere in the middle: their events join hers.
            let identify = IngestItem.identify(
                IncomingIdentity(
                    email: EmailAddress("ana@x.example"),
                    externalID: nil,
                    anonymousID: AnonymousID("v-\(seed)")
                )!
            )
            items.insert(identify, at: Int.random(in: 8..<24, using: &random))
            var start = 0
            var step = 0
            while start < items.count {
                let size = Int.random(in: 1...4, using: &random)
                let now = World.now.addingTimeInterval(Double(step) * 60)
                let ingestion = Ingestion(storage: world.storage, cache: CriteriaCache(), clock: .fixed(now))
                let batch = Array(items[start..<min(start + size, items.count)])
                let outcomes = try await ingestion.ingest(batch, receivedAt: now)
                #expect(outcomes.allSatisfy { if case .accepted = $0 { true } else { false } }, "\(outcomes)")
                start += size
                step += 1
            }
            let lead = try #require(try await world.storage.leads.find(email: EmailAddress("ana@x.example")!))
            try await Self.expectConsistent(world, lead.id, seed: seed)
            scannerFlags += try await world.storage.events.events(of: lead.id).filter {
                $0.flag == .scannerLinkBurst || $0.flag == .scannerClickAfterSend
            }.count
            await world.close()
        }
        #expect(scannerFlags > 20, "the streams make scanners' clicks: \(scannerFlags)")
    }

    @Test("a crawler's page views and a scanner's clicks are stored flagged, score nothing, and are counted")
    func flaggedAtIngestion() async throws {
        let world = try await World()
        _ = try await world.administration.apply(filterCriteria, author: "t", comment: nil, at: World.now)
        let counted = CountedFlags()
        let ingestion = Ingestion(
            storage: world.storage,
            cache: CriteriaCache(),
            clock: .fixed(World.now),
            flagged: { counted.add($0) }
        )
        func item(
            _ id: String,
            _ type: String,
            _ seconds: Double,
            _ properties: JSONObject = [:],
            agent: String = Self.browser
        )
            -> IngestItem
        {
            .event(
                IncomingEvent(
                    messageID: MessageID(id),
                    lead: .email(EmailAddress("bo@x.example")!),
                    anonymousID: nil,
                    type: EventType(type),
                    properties: properties,
                    context: ["userAgent": .string(agent)],
                    timestamp: World.now.addingTimeInterval(-3_600 + seconds)
                )!
            )
        }
        _ = try await ingestion.ingest(
            [
                item("v1", "page_viewed", 0), item("v2", "page_viewed", 1, agent: Self.googlebot),
                item("s1", "email_sent", 10, ["email_id": "n1"]),
                item("c1", "email_clicked", 12, ["email_id": "n1", "link_url": "https://x.example/a"]),
            ],
            receivedAt: World.now
        )
        // A reader's click, later: it counts. Then a click 0.4 s after it on another link: both are a scanner's, and
        // the first one, already counted in the lead's state, stops counting (the lead is rebuilt).
        _ = try await ingestion.ingest(
            [item("c2", "email_clicked", 600, ["email_id": "n1", "link_url": "https://x.example/a"])],
            receivedAt: World.now
        )
        let lead = try #require(try await world.storage.leads.find(email: EmailAddress("bo@x.example")!))
        #expect((try await world.storage.scores.score(of: lead.id)?.engagement ?? 0) > 5)
        _ = try await ingestion.ingest(
            [item("c3", "email_clicked", 600.4, ["email_id": "n1", "link_url": "https://x.example/b"])],
            receivedAt: World.now
        )
        let flags = Dictionary(
            uniqueKeysWithValues: try await world.storage.events.events(of: lead.id).map {
                ($0.messageID.rawValue, $0.flag)
            }
        )
        #expect(
            flags == [
                "v1": nil, "v2": .botUserAgent, "s1": nil, "c1": .scannerClickAfterSend, "c2": .scannerLinkBurst,
                "c3": .scannerLinkBurst,
            ]
        )
        let score = try #require(try await world.storage.scores.score(of: lead.id))
        #expect(score.engagement == 1)  // the person's page view only
        #expect(score.explanation.map(\.rule) == ["views"])
        try await Self.expectConsistent(world, lead.id, seed: 0)
        // New events counted as they were stored (c2 was a person's click when it came).
        #expect(counted.value == [.botUserAgent: 1, .scannerClickAfterSend: 1, .scannerLinkBurst: 1])
        await world.close()
    }

    @Test("changing the filters previews the moves, and the criteria's rescore judges stored events again")
    func filtersChange() async throws {
        let world = try await World()
        _ = try await world.administration.apply(filterCriteria, author: "t", comment: nil, at: World.now)
        let ingestion = Ingestion(storage: world.storage, cache: CriteriaCache(), clock: .fixed(World.now))
        let items = (0..<25).map { index in
            IngestItem.event(
                IncomingEvent(
                    messageID: MessageID("p\(index)"),
                    lead: .email(EmailAddress("cy@x.example")!),
                    anonymousID: nil,
                    type: EventType("page_viewed"),
                    context: [
                        "userAgent": .string(index < 20 ? "AcmeMonitor/1.0 (+https://acme.example)" : Self.browser)
                    ],
                    timestamp: World.now.addingTimeInterval(-Double(index) * 60)
                )!
            )
        }
        _ = try await ingestion.ingest(items, receivedAt: World.now)
        let lead = try #require(try await world.storage.leads.find(email: EmailAddress("cy@x.example")!))
        #expect(try await world.storage.scores.score(of: lead.id)?.total == 25)
        let stricter = filterCriteria + "\nfilters: { bots: { user_agents: [\"^AcmeMonitor/\"] } }\n"
        let preview = try await world.administration.preview(stricter, at: World.now)
        #expect(preview.movements[TemperatureMovement(from: .warm, to: .cold)] == 1)
        _ = try await world.administration.apply(stricter, author: "t", comment: "monitors", at: World.now)
        _ = try await world.rescoring.rescoreStale(at: World.now)
        let events = try await world.storage.events.events(of: lead.id)
        #expect(events.filter { $0.flag == .botUserAgent }.count == 20)
        #expect(try await world.storage.scores.score(of: lead.id)?.total == 5)
        // Back to the first version: the monitor's views count again.
        _ = try await world.administration.apply(filterCriteria, author: "t", comment: "undo", at: World.now)
        _ = try await world.rescoring.rescoreStale(at: World.now)
        #expect(try await world.storage.events.events(of: lead.id).allSatisfy { $0.flag == nil })
        #expect(try await world.storage.scores.score(of: lead.id)?.total == 25)
        await world.close()
    }
}

final class CountedFlags: Sendable {
    private let counts = Mutex<[EventFlag: Int]>([:])
    func add(_ more: [EventFlag: Int]) {
        counts.withLock { for (flag, count) in more { $0[flag, default: 0] += count } }
    }
    var value: [EventFlag: Int] { counts.withLock { $0 } }
}

import Attribution
import Core
import Domain
import Foundation
import Scoring
import Synchronization
import Testing

/// Criteria whose channel rules and conversion differ from the defaults.
let touchCriteria = """
    thresholds: { warm: 20, hot: 60 }
    engagement:
      - { id: visits, event: page_viewed, points: 1, cap: 10 }
      - { id: orders, event: purchase, points: 25 }
    channels:
      - { channel: partner, where: { field: context.campaign.name, eq: autumn } }
      - { channel: webinar, event: webinar_attended }
    conversion: { event: purchase, value: amount, stage: customer }
    """

@Suite("Derived touchpoints: written with the events, equal to what all the events give, rebuilt on a channel change")
struct DerivedTouchpointTests {
    static let types = ["page_viewed", "email_clicked", "purchase", "webinar_attended", "ad_clicked", "other"]

    /// The `index`th event of a lead or visitor (seeded): a type, a context that the grouping reads, sometimes an
    /// amount, and a time up to 30 days before `now`, in no order.
    static func event(
        _ index: Int,
        email: String? = nil,
        visitor: String? = nil,
        now: Date,
        random: inout some RandomNumberGenerator
    ) -> IngestItem {
        let contexts: [JSONObject] = [
            [:],
            ["campaign": ["name": "autumn", "source": "newsletter", "medium": "email"]],
            ["campaign": ["source": "google", "medium": "cpc", "name": "spring"]],
            ["page": ["referrer": "https://www.linkedin.com/feed", "url": "https://calor.example/pricing"]],
            ["page": ["referrer": "https://calor.example/blog", "url": "https://calor.example/pricing"]],
        ]
        let type = types[Int.random(in: 0..<types.count, using: &random)]
        var properties: JSONObject = [:]
        if Bool.random(using: &random) {
            properties["amount"] = .number(Double(Int.random(in: 1...900, using: &random)))
        }
        return .event(
            IncomingEvent(
                // Now and then a message id seen before: a duplicate, stored once.
                messageID: MessageID("\(email ?? visitor ?? "")-\(Int.random(in: 0..<(index + 2), using: &random))"),
                lead: email.map { .email(EmailAddress($0)!) },
                anonymousID: visitor.map { AnonymousID($0) },
                type: EventType(type),
                properties: properties,
                context: contexts[Int.random(in: 0..<contexts.count, using: &random)],
                timestamp: now.addingTimeInterval(-Double(Int.random(in: 0..<(30 * 24), using: &random)) * 3_600)
            )!
        )
    }

    /// Every lead's stored touches against those its stored events give under `criteria`, with their basis.
    static func expectDerivedFromEvents(
        _ world: World,
        criteria text: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let derivation = TouchDerivation(try Criteria(parsing: text))
        var cursor: Lead.ID?
        var leads = 0
        while true {
            let page = try await world.storage.reports.attributionLeads(after: cursor, limit: 100, stages: [])
            guard let last = page.last else { break }
            cursor = last.id
            for lead in page {
                leads += 1
                let events = try await world.storage.events.events(of: lead.id)
                #expect(lead.touches == derivation.derive(events), "\(lead.id)", sourceLocation: sourceLocation)
                #expect(lead.touchBasis == derivation.basis, sourceLocation: sourceLocation)
            }
        }
        #expect(leads > 0, sourceLocation: sourceLocation)
    }

    @Test(
        "ingestion writes each event's touch: equal to what all the lead's events give, through duplicates, late events and visitors joining leads",
        arguments: [1, 2, 3]
    )
    func ingestion(seed: UInt64) async throws {
        let world = try await World()
        _ = try await world.administration.apply(touchCriteria, author: "t", comment: nil, at: World.now)
        var random = RandomSource.seeded(seed).generator
        let emails = (0..<4).map { "lead\($0)@x.example" }
        let visitors = (0..<3).map { "visitor-\($0)" }
        for round in 0..<12 {
            let now = World.now.addingTimeInterval(Double(round) * 600)
            var items: [IngestItem] = []
            for index in 0..<6 {
                let number = round * 6 + index
                if Int.random(in: 0..<3, using: &random) == 0 {
                    items.append(
                        Self.event(number, visitor: visitors.randomElement(using: &random), now: now, random: &random)
                    )
                } else {
                    items.append(
                        Self.event(number, email: emails.randomElement(using: &random), now: now, random: &random)
                    )
                }
            }
            // Now and then a visitor turns out to be a lead: its past events become the lead's.
            if round % 4 == 3 {
                items.append(
                    .identify(
                        IncomingIdentity(
                            email: EmailAddress(emails[round % emails.count])!,
                            externalID: nil,
                            anonymousID: AnonymousID(visitors[round / 4 % visitors.count])
                        )!
                    )
                )
            }
            let outcomes = try await Ingestion(storage: world.storage, cache: CriteriaCache(), clock: .fixed(now))
                .ingest(items, receivedAt: now)
            for outcome in outcomes {
                if case .rejected(let rejection) = outcome { Issue.record("rejected: \(rejection)") }
            }
            try await Self.expectDerivedFromEvents(world, criteria: touchCriteria)
        }
        await world.close()
    }

    @Test("a change of channel rules: reports say the touchpoints are pending until the rescore derives them again")
    func channelChange() async throws {
        let world = try await World()
        _ = try await world.administration.apply(touchCriteria, author: "t", comment: nil, at: World.now)
        var random = RandomSource.seeded(7).generator
        let emails = (0..<5).map { "c\($0)@x.example" }
        _ = try await Ingestion(storage: world.storage, cache: CriteriaCache(), clock: .fixed(World.now)).ingest(
            (0..<40).map { Self.event($0, email: emails[$0 % 5], now: World.now, random: &random) },
            receivedAt: World.now
        )
        let reporting = SourceReporting(storage: world.storage, cache: CriteriaCache())
        let request = SourceReportRequest(model: .heuristic(.linear))
        #expect(try await reporting.attribution(request, now: World.now).touchpointsPending == 0)

        // Scoring rules alone: the touches stay as they are, and the rescore writes none of them.
        let points = touchCriteria.replacingOccurrences(of: "points: 25", with: "points: 26")
        _ = try await world.administration.apply(points, author: "t", comment: nil, at: World.now)
        #expect(try await reporting.attribution(request, now: World.now).touchpointsPending == 0)
        let counting = CountingStorage(world.storage)
        #expect(try await Rescoring(storage: counting, logger: world.logger).rescoreStale(at: World.now).leads == 5)
        #expect(counting.replaced == 0 && counting.appended == 0)

        // Another channel rule: every lead is pending, and counted as before, until the rescore.
        let before = try await reporting.attribution(request, now: World.now)
        let channels = points.replacingOccurrences(of: "eq: autumn", with: "eq: spring")
        _ = try await world.administration.apply(channels, author: "t", comment: nil, at: World.now)
        let stale = try await reporting.attribution(request, now: World.now)
        #expect(stale.touchpointsPending == 5)
        #expect(stale.channels == before.channels)
        #expect(try await Rescoring(storage: counting, logger: world.logger).rescoreStale(at: World.now).leads == 5)
        #expect(counting.replaced == 5)
        let after = try await reporting.attribution(request, now: World.now)
        #expect(after.touchpointsPending == 0)
        #expect(after.channels != before.channels)
        try await Self.expectDerivedFromEvents(world, criteria: channels)

        // The next event of a lead is appended under the new rules, without reading its events.
        let next = World.now.addingTimeInterval(60)
        _ = try await Ingestion(storage: counting, cache: CriteriaCache(), clock: .fixed(next)).ingest(
            [Self.event(99, email: emails[0], now: next, random: &random)],
            receivedAt: next
        )
        #expect(counting.replaced == 5)
        try await Self.expectDerivedFromEvents(world, criteria: channels)
        await world.close()
    }

    @Test("reports read in ranges at the same time give what one range gives", arguments: [2, 3])
    func ranges(seed: UInt64) async throws {
        let world = try await World()
        _ = try await world.administration.apply(touchCriteria, author: "t", comment: nil, at: World.now)
        var random = RandomSource.seeded(seed).generator
        let emails = (0..<60).map { "r\($0)@x.example" }
        _ = try await Ingestion(storage: world.storage, cache: CriteriaCache(), clock: .fixed(World.now)).ingest(
            (0..<400).map {
                Self.event($0, email: emails.randomElement(using: &random), now: World.now, random: &random)
            },
            receivedAt: World.now
        )
        let boundaries = try await world.storage.reports.leadBoundaries(parts: 4, fewest: 1)
        #expect(boundaries.count == 3)
        #expect(try await world.storage.reports.leadBoundaries(parts: 4, fewest: .max).isEmpty, "fewer leads than that")
        let whole = SourceReporting(storage: world.storage, cache: CriteriaCache(), partedFrom: .max)
        let parted = SourceReporting(storage: world.storage, cache: CriteriaCache(), partedFrom: 1)
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * max(1, abs(a)) }
        for model in [AttributionModel.heuristic(.linear), .markov(order: 1), .heuristic(.wShaped)] {
            let request = SourceReportRequest(model: model)
            let (one, many) = (
                try await whole.attribution(request, now: World.now),
                try await parted.attribution(request, now: World.now)
            )
            #expect(one.journeys == many.journeys && close(one.conversions, many.conversions))
            #expect(one.channels.map(\.channel) == many.channels.map(\.channel))
            for (a, b) in zip(one.channels, many.channels) {
                #expect(close(a.conversions, b.conversions) && close(a.value, b.value), "\(model) \(a.channel)")
            }
            let (sources, sourcesParted) = (
                try await whole.sources(request, now: World.now), try await parted.sources(request, now: World.now)
            )
            #expect(sources.rows.map(\.leads) == sourcesParted.rows.map(\.leads))
            #expect(sources.rows.map(\.customers) == sourcesParted.rows.map(\.customers))
        }
        let value = ValueReportRequest(label: .channel)
        #expect(try await whole.value(value, now: World.now) == parted.value(value, now: World.now))
        await world.close()
    }

    @Test("the conversion's event and value property are part of the basis; the lookback and stage are not")
    func basis() throws {
        func basis(_ text: String) throws -> String { TouchDerivation(try Criteria(parsing: text)).basis }
        let base = try basis(touchCriteria)
        #expect(try basis(touchCriteria) == base, "stable")
        #expect(try basis(touchCriteria.replacingOccurrences(of: "value: amount", with: "value: total")) != base)
        #expect(
            try basis(touchCriteria.replacingOccurrences(of: "event: purchase, value", with: "event: order, value"))
                != base
        )
        #expect(try basis(touchCriteria.replacingOccurrences(of: "stage: customer", with: "stage: sql")) == base)
        #expect(
            try basis(touchCriteria.replacingOccurrences(of: "conversion: {", with: "conversion: { lookback: 30d,"))
                == base
        )
        #expect(try basis(touchCriteria.replacingOccurrences(of: "channel: webinar", with: "channel: events")) != base)
    }
}

/// Scores that count, through their storage, the leads whose derived touches a save replaces or adds to.
struct CountingScores: ScoreStore {
    let inner: any ScoreStore
    let counts: CountingStorage

    func save(
        _ scores: [Score],
        states: [[UInt8]?],
        touches: TouchWrites?,
        basis: [Date?]?
    ) async throws
        -> [TemperatureChange]
    {
        for update in touches?.updates ?? [] {
            switch update {
            case .replace?: counts.touches.withLock { $0.replaced += 1 }
            case .append?: counts.touches.withLock { $0.appended += 1 }
            case nil: break
            }
        }
        return try await inner.save(scores, states: states, touches: touches, basis: basis)
    }
    func scoringStates(of leadIDs: [Lead.ID]) async throws -> [Lead.ID: ScoringStateRecord] {
        try await inner.scoringStates(of: leadIDs)
    }
    func dropScoringStates(of leadIDs: [Lead.ID]) async throws { try await inner.dropScoringStates(of: leadIDs) }
    func scoreStamps(of leadIDs: [Lead.ID]) async throws -> [Lead.ID: ScoreStamp] {
        try await inner.scoreStamps(of: leadIDs)
    }
    func score(of leadID: Lead.ID) async throws -> Score? { try await inner.score(of: leadID) }
    func scores(of leadIDs: [Lead.ID]) async throws -> [Lead.ID: Score] { try await inner.scores(of: leadIDs) }
    func temperatureHistory(of leadID: Lead.ID) async throws -> [TemperatureChange] {
        try await inner.temperatureHistory(of: leadID)
    }
    func leadsWithDecayingScores(after cursor: Lead.ID?, limit: Int) async throws -> [Lead.ID] {
        try await inner.leadsWithDecayingScores(after: cursor, limit: limit)
    }
    func leadsNotScored(
        under version: CriteriaVersion.Number,
        touchBasis: String,
        after cursor: Lead.ID?,
        limit: Int
    )
        async throws -> [Lead.ID]
    {
        try await inner.leadsNotScored(under: version, touchBasis: touchBasis, after: cursor, limit: limit)
    }
    func countNotScored(under version: CriteriaVersion.Number, touchBasis: String) async throws -> Int {
        try await inner.countNotScored(under: version, touchBasis: touchBasis)
    }
    func count() async throws -> Int {
        try await inner.count()
    }
}

import Core
import Domain
import Foundation
import Scoring
import Synchronization
import Testing

/// Criteria with every kind of engagement rule: decayed, windowed, capped, conditional, negative.
let incrementalCriteria = """
    thresholds: { warm: 20, hot: 60 }
    fit:
      - { id: big, if: { field: company_size, gte: 100 }, points: 12.5 }
    engagement:
      - { id: quote, event: quote_requested, points: 30, half_life: 20d, cap: 45 }
      - { id: pricing, event: page_viewed, where: { field: path, starts_with: /pricing }, points: 3.3, half_life: 7d }
      - { id: visits, event: page_viewed, points: 1, cap: 10 }
      - { id: clicks, event: email_clicked, points: 4.75, window: 10d, half_life: 3d }
      - { id: bounce, event: bounced, points: -6 }
    disqualify:
      - { id: careers, event: page_viewed, where: { field: path, starts_with: /careers }, window: 30d }
    """

@Suite("Incremental scores: the write path scores from the lead's state, not its history")
struct IncrementalScoringTests {
    static let types = ["quote_requested", "page_viewed", "email_clicked", "bounced", "other"]

    /// The `index`th event of a lead: a type, a path, and a time from 20 days before `now` to a day after.
    func event(_ index: Int, email: String? = nil, visitor: String? = nil, now: Date) -> IngestItem {
        let type = Self.types[(index * 7) % Self.types.count]
        let paths = ["/pricing", "/blog", "/pricing/team", "/careers"]
        return .event(
            IncomingEvent(
                messageID: MessageID("\(email ?? visitor ?? "")-\(index)"),
                lead: email.map { .email(EmailAddress($0)!) },
                anonymousID: visitor.map { AnonymousID($0) },
                type: EventType(type),
                properties: ["path": .string(paths[(index * 3) % (index % 11 == 0 ? 4 : 3)])],
                timestamp: now.addingTimeInterval(Double((index * 7_919) % 21) * -86_400 + Double(index % 5) * 3_600)
            )!
        )
    }

    /// The stored score of `lead` against the full computation over its stored events at the score's time.
    func expectFull(_ world: World, _ leadID: Lead.ID, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let stored = try #require(try await world.storage.scores.score(of: leadID), sourceLocation: sourceLocation)
        let lead = try #require(try await world.storage.leads.find(leadID), sourceLocation: sourceLocation)
        let events = try await world.storage.events.events(of: leadID)
        let criteria = try Criteria(parsing: incrementalCriteria)
        let full = criteria.score(lead: lead, events: events, at: stored.computedAt)
        #expect(
            full.score(for: leadID, version: stored.criteriaVersion, computedAt: stored.computedAt) == stored,
            "the stored score against the full computation",
            sourceLocation: sourceLocation
        )
    }

    @Test("each event is scored from the state: equal to the full computation, and the lead's events never read")
    func eachEvent() async throws {
        let world = try await World()
        _ = try await world.administration.apply(incrementalCriteria, author: "t", comment: nil, at: World.now)
        let counting = CountingStorage(world.storage)
        let lead = try await world.lead("ana@x.example", ["company_size": 250])
        for index in 0..<40 {
            let now = World.now.addingTimeInterval(Double(index) * 1_800)
            let ingestion = Ingestion(storage: counting, cache: CriteriaCache(), clock: .fixed(now))
            let outcomes = try await ingestion.ingest([event(index, email: "ana@x.example", now: now)], receivedAt: now)
            guard case .accepted = outcomes.first else {
                Issue.record("not accepted: \(outcomes)")
                return
            }
            try await expectFull(world, lead.id)
        }
        // Only the first event read the lead's events (it had no state yet: the upsert scored it without any).
        #expect(counting.reads(of: lead.id) <= 1, "reads of the lead's events: \(counting.reads(of: lead.id))")
        let state = try #require(try await world.storage.scores.scoringStates(of: [lead.id])[lead.id])
        #expect(try ScoringState(decoding: state.bytes).events == 40)
        await world.close()
    }

    @Test("a visitor's events joining a lead rebuild its state; the next event is scored from it again")
    func identityLink() async throws {
        let world = try await World()
        _ = try await world.administration.apply(incrementalCriteria, author: "t", comment: nil, at: World.now)
        let counting = CountingStorage(world.storage)
        let ingestion = Ingestion(storage: counting, cache: CriteriaCache(), clock: .fixed(World.now))
        _ = try await ingestion.ingest(
            (0..<12).map { event($0, visitor: "v-1", now: World.now) },
            receivedAt: World.now
        )
        let lead = try await world.lead("bo@x.example")
        _ = try await ingestion.ingest([event(20, email: "bo@x.example", now: World.now)], receivedAt: World.now)
        let before = counting.reads(of: lead.id)
        // The visitor turns out to be bo: its 12 events are bo's now.
        _ = try await ingestion.upsertLead(
            IncomingIdentity(email: EmailAddress("bo@x.example"), externalID: nil, anonymousID: AnonymousID("v-1"))!,
            at: World.now
        )
        #expect(counting.reads(of: lead.id) == before + 1, "the link rebuilt the state from the lead's events")
        try await expectFull(world, lead.id)
        let later = World.now.addingTimeInterval(600)
        _ = try await Ingestion(storage: counting, cache: CriteriaCache(), clock: .fixed(later))
            .ingest([event(21, email: "bo@x.example", now: later)], receivedAt: later)
        #expect(counting.reads(of: lead.id) == before + 1, "the next event did not read them")
        try await expectFull(world, lead.id)
        await world.close()
    }

    @Test("the decay sweep rescores from states without reading events; a criteria change rebuilds them")
    func sweepAndCriteriaChange() async throws {
        let world = try await World()
        _ = try await world.administration.apply(incrementalCriteria, author: "t", comment: nil, at: World.now)
        let counting = CountingStorage(world.storage)
        let ingestion = Ingestion(storage: counting, cache: CriteriaCache(), clock: .fixed(World.now))
        var ids: [Lead.ID] = []
        for number in 0..<6 {
            let email = "c\(number)@x.example"
            _ = try await ingestion.ingest(
                (0..<8).map { event($0 + number, email: email, now: World.now) },
                receivedAt: World.now
            )
            ids.append(try #require(try await world.storage.leads.find(email: EmailAddress(email)!)).id)
        }
        let readsBefore = ids.map { counting.reads(of: $0) }
        let later = World.now.addingTimeInterval(9 * 86_400)
        let swept = try await Rescoring(storage: counting, logger: world.logger).rescoreDecaying(at: later)
        #expect(swept.leads == 6)
        #expect(ids.map { counting.reads(of: $0) } == readsBefore, "no lead's events were read")
        for id in ids {
            #expect(try await world.storage.scores.score(of: id)?.computedAt == later)
            try await expectFull(world, id)
        }
        // New criteria: the bulk rescore rebuilds each state under the new version, and ingestion uses it.
        let changed = incrementalCriteria.replacingOccurrences(of: "points: 1, cap: 10", with: "points: 2, cap: 11")
        _ = try await world.administration.apply(changed, author: "t", comment: nil, at: later)
        let rescored = try await Rescoring(storage: counting, logger: world.logger).rescoreStale(at: later)
        #expect(rescored.leads == 6)
        let states = try await world.storage.scores.scoringStates(of: ids)
        #expect(states.values.allSatisfy { $0.criteriaVersion == CriteriaVersion.Number(2) } && states.count == 6)
        let readsAfter = ids.map { counting.reads(of: $0) }
        _ = try await Ingestion(storage: counting, cache: CriteriaCache(), clock: .fixed(later))
            .ingest([event(40, email: "c0@x.example", now: later)], receivedAt: later)
        #expect(counting.reads(of: ids[0]) == readsAfter[0], "scored from the rebuilt state")
        let full = try await Rescoring(storage: counting, logger: world.logger).rescoreAll(
            at: later.addingTimeInterval(1)
        )
        #expect(full.leads == 6)
        await world.close()
    }

    @Test("a sweep leaves a lead scored after its time as it is, without reading the lead's events")
    func sweepBehindIngestion() async throws {
        let world = try await World()
        _ = try await world.administration.apply(incrementalCriteria, author: "t", comment: nil, at: World.now)
        let counting = CountingStorage(world.storage)
        for email in ["early@x.example", "busy@x.example"] {
            _ = try await Ingestion(storage: counting, cache: CriteriaCache(), clock: .fixed(World.now))
                .ingest((0..<8).map { event($0, email: email, now: World.now) }, receivedAt: World.now)
        }
        let early = try #require(try await world.storage.leads.find(email: EmailAddress("early@x.example")!)).id
        let busy = try #require(try await world.storage.leads.find(email: EmailAddress("busy@x.example")!)).id
        // The busy lead gets an event two days on; a sweep that started a day on reaches it afterwards.
        let sweepTime = World.now.addingTimeInterval(86_400)
        let eventTime = World.now.addingTimeInterval(2 * 86_400)
        _ = try await Ingestion(storage: counting, cache: CriteriaCache(), clock: .fixed(eventTime))
            .ingest([event(30, email: "busy@x.example", now: eventTime)], receivedAt: eventTime)
        let readsBefore = [early, busy].map { counting.reads(of: $0) }
        let busyScore = try await world.storage.scores.score(of: busy)
        let swept = try await Rescoring(storage: counting, logger: world.logger).rescoreDecaying(at: sweepTime)
        #expect(swept.leads == 1)
        #expect([early, busy].map { counting.reads(of: $0) } == readsBefore, "no lead's events were read")
        #expect(try await world.storage.scores.score(of: early)?.computedAt == sweepTime)
        #expect(try await world.storage.scores.score(of: busy) == busyScore, "the fresher score stays")
        await world.close()
    }

    @Test("bulk passes read leads a budget of events at a time: a long history alone, every lead once")
    func eventBudget() async throws {
        let world = try await World()
        _ = try await world.administration.apply(incrementalCriteria, author: "t", comment: nil, at: World.now)
        let ingestion = Ingestion(storage: world.storage, cache: CriteriaCache(), clock: .fixed(World.now))
        var ids: [Lead.ID] = []
        for (number, count) in [4, 30, 4, 4, 4, 4].enumerated() {
            let email = "budget\(number)@x.example"
            _ = try await ingestion.ingest(
                (0..<count).map { event($0, email: email, now: World.now) },
                receivedAt: World.now
            )
            ids.append(try #require(try await world.storage.leads.find(email: EmailAddress(email)!)).id)
        }
        // Two leads a read batch: a budget of 20 events.
        let counting = CountingStorage(world.storage)
        let later = World.now.addingTimeInterval(3_600)
        let rescoring = Rescoring(storage: counting, logger: world.logger, readBatchSize: 2)
        #expect(try await rescoring.rescoreAll(at: later).leads == 6)
        #expect(ids.map { counting.reads(of: $0) } == Array(repeating: 1, count: 6), "every lead read once")
        #expect(counting.largestRead.withLock { $0 } == 30, "the long history read alone, the others within 20")
        for id in ids { try await expectFull(world, id) }
        // The sweep rebuilds leads without a state the same way.
        try await world.storage.scores.dropScoringStates(of: ids)
        counting.largestRead.withLock { $0 = 0 }
        let swept = try await rescoring.rescoreDecaying(at: later.addingTimeInterval(3_600))
        #expect(swept.leads == 6)
        #expect(ids.map { counting.reads(of: $0) } == Array(repeating: 2, count: 6), "every lead read once more")
        #expect(counting.largestRead.withLock { $0 } == 30)
        for id in ids { try await expectFull(world, id) }
        await world.close()
    }
}

/// A storage that counts, per lead, the reads of all its events (`leadsWithEvents`, `events(of:)`), and the leads
/// whose derived touches a save replaces or adds to.
final class CountingStorage: Storage, DelegatingStores {
    let inner: any Storage
    let counts = Mutex<[Lead.ID: Int]>([:])
    let touches = Mutex<(replaced: Int, appended: Int)>((0, 0))
    /// The most events one read of leads with their events returned.
    let largestRead = Mutex(0)
    var location: String { inner.location }
    var delegate: any Stores { CountingStores(inner: inner, counts: self) }
    var replaced: Int { touches.withLock { $0.replaced } }
    var appended: Int { touches.withLock { $0.appended } }

    init(_ inner: any Storage) {
        self.inner = inner
    }

    func reads(of id: Lead.ID) -> Int { counts.withLock { $0[id] ?? 0 } }

    func count(_ ids: [Lead.ID]) {
        counts.withLock { counts in for id in ids { counts[id, default: 0] += 1 } }
    }

    func unitOfWork<T: Sendable>(_ work: @Sendable (any Stores) async throws -> T) async throws -> T {
        try await inner.unitOfWork { stores in try await work(CountingStores(inner: stores, counts: self)) }
    }

    func schemaStatus() async throws -> SchemaStatus { try await inner.schemaStatus() }
    func migrate() async throws -> [String] { try await inner.migrate() }
    func close() async {}
}

struct CountingStores: DelegatingStores {
    let inner: any Stores
    let counts: CountingStorage
    var delegate: any Stores { inner }
    var events: any EventStore { CountingEvents(inner: inner.events, counts: counts) }
    var scores: any ScoreStore { CountingScores(inner: inner.scores, counts: counts) }
}

struct CountingEvents: EventStore {
    let inner: any EventStore
    let counts: CountingStorage

    func append(_ events: [NewEvent]) async throws -> [AppendOutcome] { try await inner.append(events) }
    func find(_ id: Event.ID) async throws -> Event? { try await inner.find(id) }
    func timeline(of leadID: Lead.ID, limit: Int, after cursor: EventCursor?) async throws -> EventPage {
        try await inner.timeline(of: leadID, limit: limit, after: cursor)
    }
    func events(of leadID: Lead.ID) async throws -> [Event] {
        counts.count([leadID])
        return try await inner.events(of: leadID)
    }
    func deleteOlder(
        than cutoff: Date,
        anonymousOnly: Bool,
        after cursor: Event.ID?,
        limit: Int
    ) async throws -> (deleted: Int, last: Event.ID?) {
        try await inner.deleteOlder(than: cutoff, anonymousOnly: anonymousOnly, after: cursor, limit: limit)
    }
    func leadsWithEvents(_ ids: [Lead.ID]) async throws -> [LeadWithEvents] {
        counts.count(ids)
        let read = try await inner.leadsWithEvents(ids)
        counts.largestRead.withLock { $0 = max($0, read.reduce(0) { $0 + $1.events.count }) }
        return read
    }
    func eventCounts(of ids: [Lead.ID]) async throws -> [Lead.ID: Int] { try await inner.eventCounts(of: ids) }
    /// A bounded range of the lead's email events: not its history (not counted).
    func events(of leadID: Lead.ID, types: Set<String>, from start: Date, through end: Date) async throws -> [Event] {
        try await inner.events(of: leadID, types: types, from: start, through: end)
    }
    func setFlags(_ changes: [EventFlagChange]) async throws { try await inner.setFlags(changes) }
}

import Domain
import Foundation
import PropertyBased
import Scoring
import Testing

/// The incremental state against the full computation, its oracle: on generated event streams, arrival orders, late
/// and future events, merges and criteria, a score from the state is the full score, field for field.
@Suite("Scoring state = full recomputation")
struct ScoringStateTests {
    static let documents: [Criteria] = [
        ScorerPropertyTests.criteria,
        try! Criteria(
            parsing: """
                thresholds: { warm: 10, hot: 30 }
                fit:
                  - { id: big, if: { field: company_size, gte: 100 }, points: 7.35 }
                  - { id: mail, if: { field: email, exists: true }, points: 0.1 }
                engagement:
                  - { id: pricing, event: page_viewed, where: { field: path, starts_with: /pricing }, points: 5.55, cap: 25, half_life: 30d }
                  - { id: views, event: page_viewed, points: 0.1, half_life: 2d }
                  - { id: recent-clicks, event: email_clicked, points: 3.33, window: 5d, half_life: 1d }
                  - { id: quotes, event: [quote_requested, demo_requested], points: 40, window: 20d, cap: 50 }
                  - { id: unsubscribed, event: bounced, points: -7.5, half_life: 4d, cap: 10 }
                  - { id: plain, event: other, points: 0.3 }
                disqualify:
                  - { id: careers, event: page_viewed, where: { field: path, starts_with: /careers }, window: 10d }
                  - { id: bounced-hard, event: [bounced, other], where: { field: hard, eq: true } }
                funnel:
                  rules:
                    - { to: lead, when: { field: email, exists: true } }
                    - { to: customer, when: { event: quote_requested, where: { field: plan, eq: pro } } }
                    - { to: sql, when: { event: [email_clicked, demo_requested] } }
                """
        ),
    ]
    static let types = ["page_viewed", "email_clicked", "bounced", "quote_requested", "demo_requested", "other"]

    /// A generated event: `code` picks the type, an age (from 7 days in the future to 60 days ago, in 1,000ths of a
    /// day, so that times collide now and then) and properties.
    static func event(_ code: Int, id: Int64) -> Event {
        let type = types[code % types.count]
        let age = Double((code / types.count) % 67_000 - 7_000) / 1_000
        let variant = code / (types.count * 67_000)
        let properties: JSONObject = [
            "path": variant % 3 == 0 ? "/pricing/team" : variant % 3 == 1 ? "/careers" : "/blog",
            "hard": .bool(variant % 2 == 0),
            "plan": variant % 4 == 0 ? "pro" : "free",
        ]
        return Fixture.event(type, daysAgo: age, properties: properties, id: id)
    }

    static let codes = 0...(6 * 67_000 * 12 - 1)
    static let lead = Fixture.lead(attributes: ["company_size": 250])

    @Test("folded in any order and scored as time goes on, the state gives the full score (or gives up, rarely)")
    func liveStream() async {
        let tally = Tally()
        await propertyCheck(
            input: Gen.int(in: Self.codes).array(of: 0...60),
            Gen.int(in: 0...1_000_000),
            Gen.int(in: 0...1)
        ) { codes, seed, document in
            let criteria = Self.documents[document]
            var generator = SeededGenerator(seed: UInt64(seed))
            let events = codes.enumerated().map { Self.event($1, id: Int64($0 + 1)) }.shuffled(using: &generator)
            // Scored every few events, at times that move forward (the clock of a running server).
            var time = Fixture.now.addingTimeInterval(-3 * Fixture.day)
            var state = ScoringState(criteria: criteria, horizon: time)
            var seen: [Event] = []
            for event in events {
                state.fold(event, criteria: criteria)
                seen.append(event)
                guard Int.random(in: 0..<3, using: &generator) == 0 else { continue }
                time = time.addingTimeInterval(Double(Int.random(in: 0...20_000, using: &generator)) * 13.7)
                let full = criteria.score(lead: Self.lead, events: seen, at: time)
                if let fromState = state.score(lead: Self.lead, criteria: criteria, at: time) {
                    #expect(fromState == full, "at \(time), after \(seen.count) events")
                    tally.add(exact: true)
                } else {
                    tally.add(exact: false)
                }
                // What a stored state does: it moves to the time it was scored at.
                let advanced = state.advance(to: time, criteria: criteria)
                #expect(advanced)
                #expect(
                    state.latestFunnelEvents == criteria.funnel.latestEvents(in: seen),
                    "the funnel rules' latest events"
                )
            }
        }
        let (exact, gaveUp) = tally.counts
        #expect(exact > 500, "enough scores compared: \(exact)")
        #expect(gaveUp * 100 <= exact, "the state gave up \(gaveUp) times in \(exact + gaveUp)")
    }

    @Test("merging two leads' events (an identity link) is folding the other's events")
    func merge() async {
        await propertyCheck(input: Gen.int(in: Self.codes).array(of: 0...30), Gen.int(in: Self.codes).array(of: 0...30))
        { mine, theirs in
            let criteria = Self.documents[1]
            let own = mine.enumerated().map { Self.event($1, id: Int64($0 + 1)) }
            let visitor = theirs.enumerated().map { Self.event($1, id: Int64(1_000 + $0)) }
            var state = ScoringState(criteria: criteria, events: own, horizon: Fixture.now)
            for event in visitor { state.fold(event, criteria: criteria) }
            let later = Fixture.now.addingTimeInterval(Fixture.day / 3)
            let full = criteria.score(lead: Self.lead, events: own + visitor, at: later)
            if let fromState = state.score(lead: Self.lead, criteria: criteria, at: later) {
                #expect(fromState == full)
            }
        }
    }

    @Test("a state asked for a time before its horizon gives up; moving it back is refused")
    func noGoingBack() throws {
        let criteria = Self.documents[0]
        var state = ScoringState(criteria: criteria, events: [Self.event(0, id: 1)], horizon: Fixture.now)
        #expect(state.score(lead: Self.lead, criteria: criteria, at: Fixture.now.addingTimeInterval(-1)) == nil)
        let movedBack = state.advance(to: Fixture.now.addingTimeInterval(-1), criteria: criteria)
        #expect(!movedBack)
        #expect(state.horizon == Fixture.now)
        #expect(state.score(lead: Self.lead, criteria: criteria, at: Fixture.now) != nil)
    }

    @Test("a decayed sum far from a half cent is exact; one on a half cent makes the state give up")
    func halfCents() throws {
        // 5 points halving every day: 1 day later 2.5, 3 days later 0.625 (a half cent, after the nudge: 0.63).
        let criteria = try Fixture.criteria(
            "engagement:\n  - { id: v, event: page_viewed, points: 5, half_life: 1d }\n"
        )
        let event = Fixture.event("page_viewed", daysAgo: 0, id: 1)
        var state = ScoringState(criteria: criteria, horizon: Fixture.now.addingTimeInterval(-10 * Fixture.day))
        state.fold(event, criteria: criteria)
        let oneDay = Fixture.now.addingTimeInterval(Fixture.day)
        #expect(state.score(lead: Self.lead, criteria: criteria, at: oneDay)?.total == 2.5)
        let threeDays = Fixture.now.addingTimeInterval(3 * Fixture.day)
        #expect(state.score(lead: Self.lead, criteria: criteria, at: threeDays) == nil)
        #expect(criteria.score(lead: Self.lead, events: [event], at: threeDays).total == 0.63)
    }

    @Test("the stored form reads back as the same state", arguments: [0, 1])
    func encoding(document: Int) async {
        let criteria = Self.documents[document]
        await propertyCheck(input: Gen.int(in: Self.codes).array(of: 0...40)) { codes throws in
            let events = codes.enumerated().map { Self.event($1, id: Int64($0 + 1)) }
            let state = ScoringState(criteria: criteria, events: events, horizon: Fixture.now)
            let bytes = state.encoded()
            let decoded = try ScoringState(decoding: bytes)
            #expect(decoded == state)
            #expect(bytes.first == ScoringState.format)
        }
        #expect(throws: ScoringState.DecodingError.self) { try ScoringState(decoding: [ScoringState.format, 1, 2]) }
        #expect(throws: ScoringState.DecodingError.self) { try ScoringState(decoding: [99]) }
    }
}

/// Counts across the checks of a property (they may run concurrently).
final class Tally: @unchecked Sendable {
    // @unchecked: `exact` and `gaveUp` are only touched under `lock`.
    private let lock = NSLock()
    private var exact = 0
    private var gaveUp = 0

    func add(exact isExact: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if isExact { exact += 1 } else { gaveUp += 1 }
    }

    var counts: (Int, Int) {
        lock.lock()
        defer { lock.unlock() }
        return (exact, gaveUp)
    }
}

import Domain
import Foundation
import PropertyBased
import Scoring
import Testing

/// Properties that hold for any events: checked on generated histories.
@Suite("Scoring properties")
struct ScorerPropertyTests {
    static let criteria = try! Criteria(
        parsing: """
            fit:
              - { id: f, if: { field: email, exists: true }, points: 12.5 }
            engagement:
              - { id: views, event: page_viewed, points: 3, cap: 20, half_life: 10d }
              - { id: clicks, event: email_clicked, points: 7, half_life: 3d }
              - { id: bounces, event: bounced, points: -2.5, cap: 6 }
              - { id: quotes, event: quote_requested, points: 40, window: 30d }
            """
    )
    static let types = ["page_viewed", "email_clicked", "bounced", "quote_requested", "other"]

    /// A history: each code is an event type (code % 5) and an age (code / 5 − 2,000, in 300ths of a day: from
    /// almost 7 days in the future to about 67 days ago).
    static let codes = 0...(5 * 22_001 - 1)

    static func events(_ codes: [Int], futureAllowed: Bool = true) -> [Event] {
        codes.enumerated().map { index, code in
            var age = code / 5 - 2_000
            if !futureAllowed { age = abs(age) }
            return Fixture.event(types[code % 5], daysAgo: Double(age) / 300, id: Int64(index))
        }
    }

    @Test("the score does not depend on the order events arrived in")
    func orderIndependence() async {
        await propertyCheck(input: Gen.int(in: Self.codes).array(of: 0...40), Gen.int(in: 0...1_000)) { history, seed in
            let events = Self.events(history)
            var generator = SeededGenerator(seed: UInt64(seed))
            let shuffled = events.shuffled(using: &generator)
            let first = Self.criteria.score(lead: Fixture.lead(), events: events, at: Fixture.now)
            let second = Self.criteria.score(lead: Fixture.lead(), events: shuffled, at: Fixture.now)
            #expect(first == second)
        }
    }

    @Test("a cap bounds its rule's contribution")
    func capsBound() async {
        await propertyCheck(input: Gen.int(in: Self.codes).array(of: 0...40)) { history in
            let result = Self.criteria.score(lead: Fixture.lead(), events: Self.events(history), at: Fixture.now)
            for item in result.explanation where item.rule == "views" {
                #expect(abs(item.points) <= 20)
            }
            for item in result.explanation where item.rule == "bounces" {
                #expect(abs(item.points) <= 6)
            }
        }
    }

    @Test("decay never raises a score: later, with no new events, it is lower or equal")
    func decayNeverRaises() async {
        let decayOnly = try! Criteria(
            parsing: """
                engagement:
                  - { id: views, event: page_viewed, points: 3, cap: 20, half_life: 10d }
                  - { id: clicks, event: email_clicked, points: 7, half_life: 3d }
                """
        )
        await propertyCheck(input: Gen.int(in: Self.codes).array(of: 0...40), Gen.int(in: 1...5_000)) {
            history,
            hours in
            let events = Self.events(history, futureAllowed: false)
            let now = decayOnly.score(lead: Fixture.lead(), events: events, at: Fixture.now)
            let later = decayOnly.score(
                lead: Fixture.lead(),
                events: events,
                at: Fixture.now.addingTimeInterval(Double(hours) * 3_600)
            )
            #expect(later.total <= now.total)
        }
    }

    @Test("the explanation's points add up to the total, and fit plus engagement is the total")
    func explanationSums() async {
        await propertyCheck(input: Gen.int(in: Self.codes).array(of: 0...40)) { history in
            let result = Self.criteria.score(lead: Fixture.lead(), events: Self.events(history), at: Fixture.now)
            let cents = result.explanation.map { Int(($0.points * 100).rounded()) }.reduce(0, +)
            #expect(cents == Int((result.total * 100).rounded()))
            #expect(Int((result.fit * 100).rounded()) + Int((result.engagement * 100).rounded()) == cents)
        }
    }
}

/// A small deterministic generator for shuffles (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

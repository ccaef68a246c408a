import Domain
import Foundation
import Scoring
import Testing

@Suite("Scoring semantics")
struct ScorerTests {
    let spec = try! Criteria(parsing: SpecExample.yaml)

    @Test("the SPEC example, hand-computed: fit, decayed and capped engagement, temperature, grade")
    func specExample() {
        let lead = Fixture.lead(
            email: "ana@acme.example",
            attributes: ["industry": "software", "company_size": 250, "country": "FR", "budget": "15000"]
        )
        let events = [
            // pricing-page: 5 × 0.5^(0/30) + 5 × 0.5^(30/30) + 5 × 0.5^(60/30) = 5 + 2.5 + 1.25 = 8.75
            Fixture.event("page_viewed", daysAgo: 0, properties: ["path": "/pricing"], id: 1),
            Fixture.event("page_viewed", daysAgo: 30, properties: ["path": "/pricing/team"], id: 2),
            Fixture.event("page_viewed", daysAgo: 60, properties: ["path": "/pricing"], id: 3),
            Fixture.event("page_viewed", daysAgo: 1, properties: ["path": "/blog"], id: 4),
            // quote: 40, no decay
            Fixture.event("demo_requested", daysAgo: 100, id: 5),
            // unsubscribed: outside its 180-day window
            Fixture.event("email_unsubscribed", daysAgo: 200, id: 6),
        ]
        let result = spec.score(lead: lead, events: events, at: Fixture.now)
        // fit: 15 + 10 + 5 = 30 (not free mail)
        #expect(result.fit == 30)
        #expect(result.engagement == 48.75)
        #expect(result.total == 78.75)
        #expect(result.temperature == .hot)
        #expect(result.grade == .b)
        #expect(!result.disqualified)
        #expect(result.decaying)
        #expect(
            result.explanation == [
                ExplanationItem(rule: "target-industry", kind: .fit, points: 15),
                ExplanationItem(rule: "large-company", kind: .fit, points: 10),
                ExplanationItem(rule: "france-with-budget", kind: .fit, points: 5),
                ExplanationItem(rule: "pricing-page", kind: .engagement, points: 8.75, events: 3),
                ExplanationItem(rule: "quote", kind: .engagement, points: 40, events: 1),
            ]
        )
    }

    @Test("a cap bounds a rule's contribution, positive and negative")
    func caps() throws {
        let criteria = try Fixture.criteria(
            """
            engagement:
              - { id: views, event: page_viewed, points: 5, cap: 12 }
              - { id: bounces, event: bounced, points: -4, cap: 10 }
            """
        )
        let events =
            (0..<5).map { Fixture.event("page_viewed", id: Int64($0)) }
            + (0..<4).map { Fixture.event("bounced", id: Int64(10 + $0)) }
        let result = criteria.score(lead: Fixture.lead(), events: events, at: Fixture.now)
        #expect(result.explanation.map(\.points) == [12, -10])
        #expect(result.total == 2)
    }

    @Test("windows: an event exactly on the window's edge counts, one second older does not")
    func windowEdge() throws {
        let criteria = try Fixture.criteria("engagement:\n  - { id: w, event: e, points: 1, window: 7d }\n")
        let onEdge = Fixture.event("e", daysAgo: 7, id: 1)
        let older = Event(
            id: Event.ID(2),
            messageID: MessageID("older"),
            leadID: nil,
            anonymousID: AnonymousID("v"),
            type: EventType("e"),
            properties: [:],
            context: [:],
            timestamp: Fixture.now.addingTimeInterval(-7 * Fixture.day - 1),
            receivedAt: Fixture.now
        )
        let result = criteria.score(lead: Fixture.lead(), events: [onEdge, older], at: Fixture.now)
        #expect(result.total == 1)
        #expect(result.explanation.first?.events == 1)
    }

    @Test("events in the future do not count yet, and mark the score as changing with time")
    func futureEvents() throws {
        let criteria = try Fixture.criteria("engagement:\n  - { id: q, event: quote_requested, points: 40 }\n")
        let future = Fixture.event("quote_requested", daysAgo: -1)
        let now = criteria.score(lead: Fixture.lead(), events: [future], at: Fixture.now)
        #expect(now.total == 0)
        #expect(now.decaying)
        let later = criteria.score(
            lead: Fixture.lead(),
            events: [future],
            at: Fixture.now.addingTimeInterval(2 * Fixture.day)
        )
        #expect(later.total == 40)
        #expect(!later.decaying)
    }

    @Test("totals round to 2 decimals, half away from zero, and thresholds compare the rounded total")
    func rounding() throws {
        let criteria = try Fixture.criteria(
            """
            thresholds: { warm: 10, hot: 20 }
            fit:
              - { id: a, if: { field: x, exists: true }, points: 9.995 }
              - { id: b, if: { field: y, exists: true }, points: -0.125 }
            """
        )
        let warm = criteria.score(lead: Fixture.lead(attributes: ["x": 1]), events: [], at: Fixture.now)
        #expect(warm.total == 10)  // 9.995 rounds up to 10.00: warm
        #expect(warm.temperature == .warm)
        let negative = criteria.score(lead: Fixture.lead(attributes: ["y": 1]), events: [], at: Fixture.now)
        #expect(negative.total == -0.13)  // half away from zero
    }

    @Test("disqualified leads keep their points and say why")
    func disqualification() throws {
        let lead = Fixture.lead(
            email: "bob@rival.example",
            attributes: ["industry": "software", "job_title": "Student"]
        )
        let result = spec.score(lead: lead, events: [Fixture.event("quote_requested")], at: Fixture.now)
        #expect(result.disqualified)
        #expect(result.temperature == .disqualified)
        #expect(result.total == 55)
        #expect(result.explanation.filter { $0.kind == .disqualify }.map(\.rule) == ["competitor", "student"])
    }

    @Test("an event-based disqualify rule, with where and window")
    func eventDisqualification() throws {
        let criteria = try Fixture.criteria(
            """
            disqualify:
              - id: job-seeker
                event: form_submitted
                where: { field: form, eq: careers }
                window: 90d
            """
        )
        let recent = Fixture.event("form_submitted", daysAgo: 10, properties: ["form": "Careers"])
        let old = Fixture.event("form_submitted", daysAgo: 100, properties: ["form": "careers"])
        let other = Fixture.event("form_submitted", daysAgo: 1, properties: ["form": "contact"])
        #expect(criteria.score(lead: Fixture.lead(), events: [recent], at: Fixture.now).disqualified)
        #expect(!criteria.score(lead: Fixture.lead(), events: [old, other], at: Fixture.now).disqualified)
    }

    @Test(
        "grades compare the rounded fit",
        arguments: [(40.0, Grade.a), (39.99, .b), (25, .b), (10, .c), (9.99, .d), (-5, .d)]
    )
    func grades(_ points: Double, _ grade: Grade) throws {
        let criteria = try Fixture.criteria(
            "fit:\n  - { id: f, if: { field: email, exists: true }, points: \(points) }\n"
        )
        #expect(criteria.score(lead: Fixture.lead(), events: [], at: Fixture.now).grade == grade)
    }

    @Test("explanation items add up to the total even when decay leaves fractions of cents")
    func explanationAddsUp() throws {
        let criteria = try Fixture.criteria(
            """
            fit:
              - { id: f1, if: { field: email, exists: true }, points: 0.333 }
              - { id: f2, if: { field: email, exists: true }, points: 0.333 }
            engagement:
              - { id: a, event: a, points: 1, half_life: 7d }
              - { id: b, event: b, points: 1, half_life: 3d }
              - { id: c, event: c, points: -1, half_life: 5d }
            """
        )
        let events = [
            Fixture.event("a", daysAgo: 1.3, id: 1), Fixture.event("b", daysAgo: 2.7, id: 2),
            Fixture.event("c", daysAgo: 0.4, id: 3), Fixture.event("a", daysAgo: 9.1, id: 4),
        ]
        let result = criteria.score(lead: Fixture.lead(), events: events, at: Fixture.now)
        let sum = result.explanation.map { Int(($0.points * 100).rounded()) }.reduce(0, +)
        #expect(sum == Int((result.total * 100).rounded()))
        #expect(Int((result.fit * 100).rounded()) + Int((result.engagement * 100).rounded()) == sum)
    }
}

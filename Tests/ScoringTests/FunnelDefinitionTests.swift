import Domain
import Foundation
import Scoring
import Testing

@Suite("Funnel section of the criteria")
struct FunnelDefinitionTests {
    static let specExample = """
        thresholds: { warm: 20, hot: 50 }
        engagement:
          - { id: quote, event: quote_requested, points: 60 }
        disqualify:
          - { id: rival, if: { field: email, ends_with: "@rival.example" } }
        funnel:
          stages: [subscriber, lead, mql, sql, opportunity, customer]
          exits: [disqualified, lost]
          rules:
            - { to: lead, when: { field: email, exists: true } }
            - { to: mql, when: { temperature: hot } }
            - { to: customer, when: { event: order_completed } }
            - { id: out, to: disqualified, when: { disqualified: true } }
        """

    @Test("without a funnel section the standard path, exits and rules apply")
    func standard() throws {
        let criteria = try Criteria(parsing: "thresholds: { warm: 20, hot: 50 }")
        #expect(criteria.funnel == FunnelDefinition.standard)
        #expect(
            criteria.funnel.stages.map(\.rawValue) == ["subscriber", "lead", "mql", "sql", "opportunity", "customer"]
        )
    }

    @Test("SPEC §3's example parses into typed rules, named by id or by place")
    func specExample() throws {
        let funnel = try Criteria(parsing: Self.specExample).funnel
        #expect(funnel.rules.map(\.id) == ["funnel.1", "funnel.2", "funnel.3", "out"])
        #expect(funnel.rules.map(\.to) == [.lead, .mql, .customer, .disqualified])
        #expect(funnel.rules[1].trigger == .temperature([.hot]))
        #expect(funnel.rules[2].trigger == .event(types: ["order_completed"], condition: nil))
        #expect(funnel.rules[3].trigger == .disqualified(true))
    }

    @Test("every problem of a funnel section is listed with its line")
    func validation() throws {
        let document = """
            funnel:
              stages: [subscriber, lead, lead, mql]
              exits: [lost, mql]
              colour: red
              rules:
                - { to: customer, when: { temperature: hot } }
                - { to: mql, when: { temperature: boiling } }
                - { to: lead, when: { event: form_sent, within: 3d } }
                - { to: lead }
            """
        do {
            _ = try Criteria(parsing: document)
            Issue.record("the document was accepted")
        } catch {
            let problems = error.problems.map { "\($0.line ?? 0): \($0.message)" }
            #expect(problems.contains { $0.hasPrefix("2:") && $0.contains("'lead' is listed twice") })
            #expect(problems.contains { $0.hasPrefix("3:") && $0.contains("'mql' is both") })
            #expect(problems.contains { $0.hasPrefix("4:") && $0.contains("unknown key 'colour'") })
            #expect(problems.contains { $0.hasPrefix("6:") && $0.contains("'customer' is neither") })
            #expect(problems.contains { $0.hasPrefix("7:") && $0.contains("temperature must be") })
            #expect(problems.contains { $0.hasPrefix("8:") && $0.contains("unknown key 'within'") })
            #expect(problems.contains { $0.hasPrefix("9:") && $0.contains("needs when") })
        }
    }

    @Test(
        "automation moves forward only: the furthest stage whose rule holds, an exit before any stage, never back",
        arguments: [
            // (stage now, email, quote?, order?) → expected stage
            ("subscriber", "ana@acme.example", false, false, "lead"),
            ("subscriber", "ana@acme.example", true, false, "mql"),
            ("lead", "ana@acme.example", true, true, "customer"),
            ("sql", "ana@acme.example", true, false, nil),  // hot, but already past mql: no move back
            ("mql", "boss@rival.example", true, true, "disqualified"),  // the exit wins
            ("disqualified", "ana@acme.example", true, true, nil),  // exits stay until moved by hand
            ("retired", "ana@acme.example", true, false, nil),  // a stage no longer in the funnel
        ] as [(String, String, Bool, Bool, String?)]
    )
    func automation(stage: String, email: String, quote: Bool, order: Bool, expected: String?) throws {
        let criteria = try Criteria(parsing: Self.specExample)
        var events: [Event] = []
        if quote { events.append(Fixture.event("quote_requested", id: 1)) }
        if order { events.append(Fixture.event("order_completed", id: 2)) }
        var lead = Fixture.lead(email: email)
        lead.stage = Stage(stage)
        let score = criteria.score(lead: lead, events: events, at: Fixture.now)
        let move = criteria.funnel.automaticMove(from: lead.stage, lead: lead, score: score, events: events)
        #expect(move?.to.rawValue == expected)
    }
}

import Core
import Domain
import Foundation
import Testing

@Suite("Funnel use cases: rules applied by background rescoring")
struct FunnelUseCaseTests {
    @Test("a new funnel rule moves, from then on, the leads it holds for; a lead held by a manual move stays")
    func newRuleAppliesForward() async throws {
        let world = try await World()
        _ = try await world.administration.apply(simpleCriteria, author: "t", comment: nil, at: World.now)
        let ana = try await world.lead("ana@acme.example")
        let bo = try await world.lead("bo@acme.example")
        let cy = try await world.lead("cy@acme.example")
        _ = try await world.storage.events.append([
            world.event("demo_requested", lead: ana.id, daysAgo: 2),
            world.event("demo_requested", lead: bo.id, daysAgo: 2),
        ])
        _ = try await world.rescoring.rescoreStale(at: World.now)
        // The standard rules: an email makes a lead.
        #expect(try await world.storage.leads.find(ana.id)?.stage == .lead)
        // bo is put back to subscriber by hand after his demo.
        _ = try await StageMoves(storage: world.storage, cache: CriteriaCache())
            .move(bo.id, to: .subscriber, note: "not a real prospect", value: nil, actor: "ana", at: World.now)

        let withRule =
            simpleCriteria + """

                funnel:
                  rules:
                    - { id: demo, to: sql, when: { event: demo_requested } }
                """
        let preview = try await world.administration.preview(withRule, at: World.now)
        #expect(preview.stageMoves == [StageMovement(from: .lead, to: .sql): 1])
        _ = try await world.administration.apply(withRule, author: "t", comment: nil, at: World.now)
        let summary = try await world.rescoring.rescoreStale(at: World.now.addingTimeInterval(60))
        #expect(summary.stageMoves == 1)
        #expect(try await world.storage.leads.find(ana.id)?.stage == .sql)
        #expect(try await world.storage.leads.find(bo.id)?.stage == .subscriber)
        #expect(try await world.storage.leads.find(cy.id)?.stage == .lead)
        let history = try await world.storage.stages.history(of: ana.id)
        #expect(history.map(\.to) == [.lead, .sql])
        if case .rule(let rule, let event)? = history.last?.reason {
            #expect(rule == "demo")
            #expect(event != nil)
        } else {
            Issue.record("the move names its rule: \(String(describing: history.last?.reason))")
        }
        #expect(history.last?.at == World.now.addingTimeInterval(60))
        await world.close()
    }
}

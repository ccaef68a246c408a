import Domain
import Foundation
import Testing

@testable import Core

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
        // Read a lead a page (a budget of ten events a read): the same preview.
        let paged = try await world.administration.preview(withRule, at: World.now, batchSize: 1)
        #expect(paged.stageMoves == preview.stageMoves)
        #expect(paged.leads == preview.leads && paged.leads == 3)
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

    @Test("moves worked out from an unlocked read move unchanged leads; a lead changed since is rescored as it is now")
    func movesConfirmedUnderLock() async throws {
        let world = try await World()
        let criteria =
            simpleCriteria + """

                funnel:
                  rules:
                    - { id: demo, to: sql, when: { event: demo_requested } }
                """
        _ = try await world.administration.apply(criteria, author: "t", comment: nil, at: World.now)
        let ana = try await world.lead("ana@acme.example")
        let bo = try await world.lead("bo@acme.example")
        let cy = try await world.lead("cy@acme.example")
        _ = try await world.storage.events.append([ana, bo, cy].map { world.event("demo_requested", lead: $0.id) })

        // What a bulk rescore does without locks: read, score, save the scores, work out the moves.
        let time = World.now.addingTimeInterval(60)
        let cache = CriteriaCache()
        let active = try #require(try await cache.active(in: world.storage))
        let scored = try await world.storage.events.leadsWithEvents([ana.id, bo.id, cy.id]).map { item in
            (item: item, result: active.criteria.score(lead: item.lead, events: item.events, at: time))
        }
        _ = try await world.storage.scores.save(
            scored.map { $0.result.score(for: $0.item.lead.id, version: active.version.number, computedAt: time) }
        )
        let moves = try await FunnelAutomation.moves(
            for: scored,
            funnel: active.criteria.funnel,
            stages: world.storage.stages,
            events: world.storage.events
        )
        #expect(scored.allSatisfy { $0.item.lead.stage == .subscriber })
        #expect(Set(moves.map(\.lead.id)) == [ana.id, bo.id, cy.id])
        #expect(moves.allSatisfy { $0.move.to == .sql })

        // Meanwhile sales move bo by hand (a manual move holds until he does something new), and cy's attributes
        // change (her stage does not).
        _ = try await StageMoves(storage: world.storage, cache: cache)
            .move(bo.id, to: .mql, note: "not yet", value: nil, actor: "sales", at: time)
        try await world.storage.leads.replaceAttributes(of: cy.id, with: ["company_size": 500], at: time)

        let recorded = try await world.storage.unitOfWork { stores in
            try await Rescoring.confirm(moves, scoredAt: time, in: stores, cache: cache)
        }
        #expect(recorded == 2)
        #expect(try await world.storage.leads.find(ana.id)?.stage == .sql)
        #expect(try await world.storage.leads.find(bo.id)?.stage == .mql)
        #expect(
            try await world.storage.stages.history(of: bo.id).last?.reason == .manual(actor: "sales", note: "not yet")
        )
        // cy was rescored as she is now (her new size counts) and still moves.
        #expect(try await world.storage.leads.find(cy.id)?.stage == .sql)
        #expect(try await world.storage.scores.score(of: cy.id)?.fit == 30)
        await world.close()
    }
}

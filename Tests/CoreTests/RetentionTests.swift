import Core
import Domain
import Foundation
import Testing

@Suite("Retention")
struct RetentionTests {
    @Test("a sweep deletes what the policy no longer keeps; scores keep counting it until the lead is rebuilt")
    func scores() async throws {
        let world = try await World()
        // A lifetime rule (no decay, no window) and a rule with a 30-day window.
        _ = try await world.administration.apply(
            """
            thresholds: { warm: 20, hot: 50 }
            engagement:
              - { id: downloads, event: whitepaper_downloaded, points: 10 }
              - { id: visits, event: page_viewed, points: 1, window: 30d }
            """,
            author: "t",
            comment: nil,
            at: World.now
        )
        let lead = try await world.lead("ana@acme.example")
        let cache = CriteriaCache()
        try await world.storage.unitOfWork { stores in
            _ = try await stores.events.append([
                world.event("whitepaper_downloaded", lead: lead.id, daysAgo: 400),
                world.event("whitepaper_downloaded", lead: lead.id, daysAgo: 10),
                world.event("page_viewed", lead: lead.id, daysAgo: 5),
            ])
            _ = try await Rescoring.rescoreLead(lead.id, in: stores, cache: cache, at: World.now)
        }
        #expect(try await world.storage.scores.score(of: lead.id)?.total == 21)

        let summary = try await Retention(
            storage: world.storage,
            policy: RetentionPolicy(events: .seconds(365 * 86_400)),
            batchSize: 2
        ).sweep(at: World.now)
        #expect(summary.events == 1)
        #expect(try await world.storage.events.events(of: lead.id).count == 2)
        // The score still counts the deleted download (the state holds it) ...
        try await world.storage.unitOfWork { stores in
            _ = try await Rescoring.rescoreLead(lead.id, in: stores, cache: cache, at: World.now.addingTimeInterval(60))
        }
        #expect(try await world.storage.scores.score(of: lead.id)?.total == 21)
        // ... until the lead is rebuilt from its events: the lifetime rule loses it, the windowed one loses nothing.
        _ = try await world.rescoring.rescoreAll(at: World.now.addingTimeInterval(120))
        #expect(try await world.storage.scores.score(of: lead.id)?.total == 11)
        await world.close()
    }
}

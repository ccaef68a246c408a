import Core
import Domain
import Foundation
import Testing

@Suite("Time and randomness as parameters of Core")
struct ClockAndRandomTests {
    func quote(_ email: String, messageID: String?) -> IngestItem {
        .event(
            IncomingEvent(
                messageID: messageID.map { MessageID($0) },
                lead: .email(EmailAddress(email)!),
                anonymousID: nil,
                type: EventType("quote_requested"),
                timestamp: nil
            )!
        )
    }

    @Test("a group is received, and scored, at the clock's time; events without a message id get the source's ids")
    func groupCommitReadsTheGivenClock() async throws {
        let world = try await World()
        _ = try await world.administration.apply(simpleCriteria, author: "t", comment: nil, at: World.now)
        let later = World.now.addingTimeInterval(3_600)
        let ingestion = Ingestion(
            storage: world.storage,
            cache: CriteriaCache(),
            clock: .fixed(later),
            random: .seeded(42)
        )
        let outcomes = try await GroupCommit(ingestion: ingestion, clock: .fixed(later))
            .ingest([quote("ana@x.example", messageID: nil)])
        guard case .accepted(let eventID?, let leadID?) = outcomes.first else {
            Issue.record("not accepted: \(outcomes)")
            return
        }
        let event = try #require(try await world.storage.events.find(eventID))
        #expect(event.timestamp == later && event.receivedAt == later)
        // The id the seeded source gives first, the same on every run.
        #expect(event.messageID == MessageID(RandomSource.seeded(42).uuid().uuidString))
        let score = try #require(try await world.storage.scores.score(of: leadID))
        #expect(score.computedAt == later)
        await world.close()
    }

    @Test("a seeded source repeats itself and gives version 4 UUIDs; the system source does not repeat")
    func sources() {
        let first = RandomSource.seeded(7)
        let second = RandomSource.seeded(7)
        let ids = (0..<5).map { _ in first.uuid() }
        #expect(ids == (0..<5).map { _ in second.uuid() })
        #expect(Set(ids).count == 5)
        for id in ids {
            let text = id.uuidString
            #expect(Array(text)[14] == "4", "\(text)")
            #expect("89AB".contains(Array(text)[19]), "\(text)")
        }
        #expect(RandomSource.system.uuid() != RandomSource.system.uuid())
    }

    @Test("keys take their secret and id from the given source")
    func keys() async throws {
        let world = try await World()
        let a = try await KeyManagement(storage: world.storage, random: .seeded(1))
            .create(name: "a", scope: .ingest, actor: "t", at: World.now)
        let other = try await World()
        let b = try await KeyManagement(storage: other.storage, random: .seeded(1))
            .create(name: "a", scope: .ingest, actor: "t", at: World.now)
        #expect(a.secret == b.secret && a.key.id == b.key.id)
        #expect(a.secret.hasPrefix("calor_ingest_") && a.secret.count == "calor_ingest_".count + 32)
        let c = try await KeyManagement(storage: world.storage).create(
            name: "c",
            scope: .ingest,
            actor: "t",
            at: World.now
        )
        #expect(c.secret != a.secret)
        await world.close()
        await other.close()
    }
}

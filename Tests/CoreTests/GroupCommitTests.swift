import Core
import Domain
import Foundation
import Synchronization
import Testing

@Suite("Group commit")
struct GroupCommitTests {
    /// One group at a time, and (SQLite's ``Domain/Storage/queuedUnitsOfWork``) the next one started while one runs.
    @Test(
        "concurrent requests share units of work, and each gets its own outcomes in its own order",
        arguments: [1, 2]
    )
    func concurrentRequests(groupsInFlight: Int) async throws {
        let world = try await World()
        #expect(world.storage.queuedUnitsOfWork == 2)
        _ = try await world.administration.apply(simpleCriteria, author: "t", comment: nil, at: World.now)
        let group = GroupCommit(
            ingestion: Ingestion(storage: world.storage, cache: CriteriaCache()),
            maximumItems: 7,
            maximumGroupsInFlight: groupsInFlight
        )
        func event(_ id: String, _ email: String) -> IngestItem {
            .event(
                IncomingEvent(
                    messageID: MessageID(id),
                    lead: .email(EmailAddress(email)!),
                    anonymousID: nil,
                    type: EventType("quote_requested"),
                    timestamp: World.now
                )!
            )
        }
        let results = try await withThrowingTaskGroup(of: (Int, [IngestOutcome]).self) { tasks in
            for request in 0..<40 {
                tasks.addTask {
                    // Each request: two events of its own, and one that every request sends (a duplicate but once).
                    let items = [
                        event("r\(request)-a", "lead\(request % 5)@x.example"),
                        event("shared", "lead0@x.example"),
                        event("r\(request)-b", "lead\(request % 5)@x.example"),
                    ]
                    return (request, try await group.ingest(items))
                }
            }
            var results: [Int: [IngestOutcome]] = [:]
            for try await (request, outcomes) in tasks { results[request] = outcomes }
            return results
        }
        #expect(results.count == 40)
        var accepted = Set<Event.ID>()
        var sharedAccepted = 0
        for (_, outcomes) in results {
            #expect(outcomes.count == 3)
            for (index, outcome) in outcomes.enumerated() {
                switch outcome {
                case .accepted(let event?, _):
                    #expect(accepted.insert(event).inserted)
                    if index == 1 { sharedAccepted += 1 }
                case .duplicate:
                    #expect(index == 1)
                default:
                    Issue.record("unexpected \(outcome)")
                }
            }
        }
        #expect(sharedAccepted == 1)
        #expect(accepted.count == 81)
        let lead = try #require(try await world.storage.leads.find(email: EmailAddress("lead1@x.example")!))
        #expect(try await world.storage.events.events(of: lead.id).count == 16)
        await world.close()
    }

    @Test("beyond the waiting limit, requests are refused whole and at once; the others are stored whole")
    func backPressure() async throws {
        let world = try await World()
        let group = GroupCommit(
            ingestion: Ingestion(storage: world.storage, cache: CriteriaCache()),
            maximumItems: 10,
            maximumWaitingItems: 2,
            maximumGroupsInFlight: world.storage.queuedUnitsOfWork
        )
        let outcomes: (stored: Int, refused: Int) = try await withThrowingTaskGroup(of: Bool.self) { tasks in
            for request in 0..<200 {
                tasks.addTask {
                    let items = (0..<2).map { index in
                        IngestItem.event(
                            IncomingEvent(
                                messageID: MessageID("r\(request)-\(index)"),
                                lead: nil,
                                anonymousID: AnonymousID("v\(request)"),
                                type: EventType("page_viewed"),
                                timestamp: World.now
                            )!
                        )
                    }
                    do {
                        _ = try await group.ingest(items)
                        return true
                    } catch is IngestionOverloaded {
                        return false
                    }
                }
            }
            var stored = 0
            var refused = 0
            for try await accepted in tasks {
                if accepted { stored += 1 } else { refused += 1 }
            }
            return (stored, refused)
        }
        #expect(outcomes.refused > 0)
        #expect(outcomes.stored + outcomes.refused == 200)
        // Every accepted request stored both its events; no refused one stored any.
        var events = 0
        for id in 1...400 where try await world.storage.events.find(Event.ID(Int64(id))) != nil {
            events += 1
        }
        #expect(events == outcomes.stored * 2)
        await world.close()
    }

    @Test("a unit of work takes its items once it holds the writer; nothing taken, nothing stored")
    func itemsTakenInsideTheUnit() async throws {
        let world = try await World()
        let ingestion = Ingestion(storage: world.storage, cache: CriteriaCache())
        let calls = Mutex(0)
        let nothing = try await ingestion.ingest {
            calls.withLock { $0 += 1 }
            return ([], World.now)
        }
        #expect(nothing.isEmpty)
        #expect(calls.withLock { $0 } == 1)
        let item = try StorableItem.check(
            .event(
                IncomingEvent(
                    messageID: MessageID("taken"),
                    lead: .email(EmailAddress("taken@x.example")!),
                    anonymousID: nil,
                    type: EventType("page_viewed"),
                    timestamp: nil
                )!
            )
        ).get()
        let outcomes = try await ingestion.ingest { ([item], World.now) }
        guard case .accepted(let event?, let lead?) = outcomes.first else {
            Issue.record("not accepted: \(outcomes)")
            return
        }
        #expect(outcomes.count == 1)
        let stored = try #require(try await world.storage.events.find(event))
        #expect(stored.leadID == lead)
        // Received when `take` said: the event's default time.
        #expect(stored.timestamp == World.now)
        await world.close()
    }

    @Test(
        "requests whose unit of work fails before it takes them get the error, and nothing spins",
        .timeLimit(.minutes(1)),
        arguments: [1, 2]
    )
    func unitsFailingBeforeTaking(groupsInFlight: Int) async throws {
        let world = try await World()
        let group = GroupCommit(
            ingestion: Ingestion(storage: UnavailableWriter(world.storage), cache: CriteriaCache()),
            maximumItems: 3,
            maximumGroupsInFlight: groupsInFlight
        )
        let failures = try await withThrowingTaskGroup(of: Bool.self) { tasks in
            for request in 0..<20 {
                tasks.addTask {
                    let item = IngestItem.event(
                        IncomingEvent(
                            messageID: MessageID("f\(request)"),
                            lead: nil,
                            anonymousID: AnonymousID("v\(request)"),
                            type: EventType("page_viewed"),
                            timestamp: World.now
                        )!
                    )
                    do {
                        _ = try await group.ingest([item])
                        return false
                    } catch is StoreError {
                        return true
                    }
                }
            }
            var failures = 0
            for try await failed in tasks where failed { failures += 1 }
            return failures
        }
        #expect(failures == 20)
        await world.close()
    }
}

/// A storage whose units of work fail before they start (the writer unavailable); its other calls go through.
final class UnavailableWriter: Storage, DelegatingStores {
    let inner: any Storage
    var location: String { inner.location }
    var delegate: any Stores { inner }

    init(_ inner: any Storage) {
        self.inner = inner
    }

    func unitOfWork<T: Sendable>(_ work: @Sendable (any Stores) async throws -> T) async throws -> T {
        throw StoreError.unavailable("the writer is unavailable")
    }

    func schemaStatus() async throws -> SchemaStatus { try await inner.schemaStatus() }
    func migrate() async throws -> [String] { try await inner.migrate() }
    func close() async {}
}

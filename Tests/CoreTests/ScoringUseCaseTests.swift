import Core
import Domain
import Foundation
import Logging
import Scoring
import StorageSQLite
import Synchronization
import Testing

/// A migrated SQLite database of its own, and the time the test says it is.
struct World {
    let folder: URL
    let storage: SQLiteStorage
    let logger = Logger(label: "calor-test")
    static let now = Date(timeIntervalSince1970: 1_793_527_200)  // 2026-11-01T10:00:00Z

    init() async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("calor-core-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        storage = try SQLiteStorage(configuration: SQLiteConfiguration(path: folder.appendingPathComponent("db").path))
        try await storage.migrate()
    }

    func close() async {
        await storage.close()
        try? FileManager.default.removeItem(at: folder)
    }

    var administration: CriteriaAdministration { CriteriaAdministration(storage: storage, logger: logger) }
    var rescoring: Rescoring { Rescoring(storage: storage, logger: logger) }

    @discardableResult
    func lead(_ email: String, _ attributes: JSONObject = [:]) async throws -> Lead {
        try await storage.leads.upsert(
            LeadUpsert(email: EmailAddress(email), externalID: nil, attributes: attributes)!,
            at: Self.now
        ).lead
    }

    func event(_ type: String, lead: Lead.ID, daysAgo: Double = 0, id: String = UUID().uuidString) -> NewEvent {
        NewEvent(
            messageID: MessageID(id),
            leadID: lead,
            anonymousID: nil,
            type: EventType(type),
            timestamp: Self.now.addingTimeInterval(-daysAgo * 86_400),
            receivedAt: Self.now
        )!
    }
}

let simpleCriteria = """
    thresholds: { warm: 20, hot: 50 }
    fit:
      - { id: big, if: { field: company_size, gte: 100 }, points: 30 }
    engagement:
      - { id: quote, event: quote_requested, points: 40, half_life: 7d }
    """

@Suite("Scoring use cases")
struct ScoringUseCaseTests {
    @Test("a lead is rescored inside the unit of work that stores its event, and not when it rolls back")
    func rescoreInUnitOfWork() async throws {
        let world = try await World()
        _ = try await world.administration.apply(simpleCriteria, author: "t", comment: nil, at: World.now)
        let lead = try await world.lead("a@b.example", ["company_size": 150])
        let cache = CriteriaCache()
        let changes = try await world.storage.unitOfWork { stores in
            _ = try await stores.events.append([world.event("quote_requested", lead: lead.id)])
            return try await Rescoring.rescoreLead(lead.id, in: stores, cache: cache, at: World.now)
        }
        #expect(changes.map(\.toTemperature) == [.hot])
        let score = try #require(try await world.storage.scores.score(of: lead.id))
        #expect(score.total == 70)
        #expect(score.criteriaVersion == CriteriaVersion.Number(1))

        struct Abort: Error {}
        let other = try await world.lead("c@d.example")
        await #expect(throws: Abort.self) {
            try await world.storage.unitOfWork { stores in
                _ = try await stores.events.append([world.event("quote_requested", lead: other.id)])
                _ = try await Rescoring.rescoreLead(other.id, in: stores, cache: cache, at: World.now)
                throw Abort()
            }
        }
        #expect(try await world.storage.scores.score(of: other.id) == nil)
        await world.close()
    }

    @Test("applying criteria stores an audited version; rescoring moves every lead to it and resumes where it stopped")
    func applyAndRescore() async throws {
        let world = try await World()
        var ids: [Lead.ID] = []
        for index in 0..<7 {
            ids.append(try await world.lead("l\(index)@acme.example", ["company_size": .number(Double(index * 40))]).id)
        }
        let version = try await world.administration.apply(
            simpleCriteria,
            author: "ana",
            comment: "first",
            at: World.now
        )
        #expect(version.isActive)
        let audit = try await world.storage.audit.recent(limit: 5)
        #expect(audit.first?.action == "criteria.apply")
        #expect(audit.first?.actor == "ana")
        #expect(audit.first?.subject == "1")

        // Half done, as if interrupted: two leads already scored under version 1.
        let criteria = try Criteria(parsing: simpleCriteria)
        let done = try await world.storage.events.leadsWithEvents(Array(ids.prefix(2)))
        let partial = done.map {
            criteria.score(lead: $0.lead, events: $0.events, at: World.now)
                .score(for: $0.lead.id, version: version.number, computedAt: World.now)
        }
        let touches = TouchDerivation(criteria)
        _ = try await world.storage.scores.save(
            partial,
            states: [],
            touches: TouchWrites(basis: touches.basis, updates: done.map { .replace(touches.derive($0.events)) }),
            basis: nil
        )
        let recorder = ProgressRecorder()
        let summary = try await world.rescoring.rescoreStale(at: World.now, batchSize: 2) { recorder.add($0) }
        #expect(summary.leads == 5)
        #expect(recorder.values.map(\.done) == [2, 4, 5])
        #expect(recorder.values.allSatisfy { $0.total == 5 })
        #expect(try await world.storage.scores.countNotScored(under: version.number, touchBasis: touches.basis) == 0)
        let big = try #require(try await world.storage.scores.score(of: ids[6]))
        #expect(big.total == 30)
        #expect(big.temperature == .warm)
        #expect(try await world.rescoring.rescoreStale(at: World.now).leads == 0)
        await world.close()
    }

    @Test("the decay sweep cools a quiet hot lead and records when")
    func decaySweep() async throws {
        let world = try await World()
        _ = try await world.administration.apply(simpleCriteria, author: "t", comment: nil, at: World.now)
        let lead = try await world.lead("hot@acme.example", ["company_size": 150])
        _ = try await world.storage.events.append([world.event("quote_requested", lead: lead.id)])
        _ = try await world.rescoring.rescoreStale(at: World.now)
        #expect(try await world.storage.scores.score(of: lead.id)?.temperature == .hot)
        let later = World.now.addingTimeInterval(21 * 86_400)  // three half-lives: 40 → 5
        let summary = try await world.rescoring.rescoreDecaying(at: later)
        #expect(summary.leads == 1)
        #expect(summary.temperatureChanges == 1)
        let score = try #require(try await world.storage.scores.score(of: lead.id))
        #expect(score.total == 35)
        #expect(score.temperature == .warm)
        let history = try await world.storage.scores.temperatureHistory(of: lead.id)
        #expect(history.map(\.toTemperature) == [.hot, .warm])
        #expect(history.last?.at == later)
        await world.close()
    }

    @Test("a paced decay sweep waits between its batches, after each the batch's time, and still sweeps every lead")
    func pacedDecaySweep() async throws {
        let world = try await World()
        _ = try await world.administration.apply(simpleCriteria, author: "t", comment: nil, at: World.now)
        for number in 0..<5 {
            let lead = try await world.lead("hot\(number)@acme.example", ["company_size": 150])
            _ = try await world.storage.events.append([world.event("quote_requested", lead: lead.id)])
        }
        _ = try await world.rescoring.rescoreStale(at: World.now)
        let later = World.now.addingTimeInterval(21 * 86_400)
        let pauses = Mutex<[Duration]>([])
        let recorder = ProgressRecorder()
        let summary = try await world.rescoring.rescoreDecaying(at: later, batchSize: 2) {
            recorder.add($0)
        } pacing: { batchTime in
            // The batches saved so far when the sweep pauses: it waits between batches, not before the first.
            #expect(recorder.values.count == pauses.withLock { $0.count } + 1)
            pauses.withLock { $0.append(batchTime) }
        }
        #expect(summary.leads == 5)
        #expect(summary.temperatureChanges == 5)
        #expect(recorder.values.map(\.done) == [2, 4, 5])
        let waited = pauses.withLock { $0 }
        #expect(waited.count == 2)
        #expect(waited.allSatisfy { $0 > .zero })
        await world.close()
    }

    @Test("a dry run reports the diff and the moves, and changes nothing")
    func preview() async throws {
        let world = try await World()
        _ = try await world.administration.apply(simpleCriteria, author: "t", comment: nil, at: World.now)
        let big = try await world.lead("big@acme.example", ["company_size": 500])
        try await world.lead("small@acme.example", ["company_size": 5])
        _ = try await world.rescoring.rescoreStale(at: World.now)
        let stricter = simpleCriteria.replacingOccurrences(of: "warm: 20, hot: 50", with: "warm: 35, hot: 50")
        let preview = try await world.administration.preview(stricter, at: World.now, listMoved: true)
        #expect(preview.leads == 2)
        #expect(preview.movements == [TemperatureMovement(from: .warm, to: .cold): 1])
        #expect(preview.moved.map(\.id) == [big.id])
        #expect(preview.diff.contains(.removed("thresholds: { warm: 20, hot: 50 }")))
        #expect(preview.diff.contains(.added("thresholds: { warm: 35, hot: 50 }")))
        #expect(try await world.storage.criteria.history().count == 1)
        #expect(try await world.storage.scores.score(of: big.id)?.temperature == .warm)
        let counted = try await world.administration.preview(stricter, at: World.now)
        #expect(counted.movements == preview.movements)
        #expect(counted.moved.isEmpty)
        await world.close()
    }

    @Test("a rollback applies an earlier version's content as a new, audited version")
    func rollback() async throws {
        let world = try await World()
        let first = try await world.administration.apply(simpleCriteria, author: "t", comment: nil, at: World.now)
        _ = try await world.administration.apply(
            simpleCriteria.replacingOccurrences(of: "points: 30", with: "points: 5"),
            author: "t",
            comment: nil,
            at: World.now
        )
        let restored = try await world.administration.rollback(to: first.number, author: "bo", at: World.now)
        #expect(restored.number == CriteriaVersion.Number(3))
        #expect(restored.document == simpleCriteria)
        #expect(restored.contentHash == first.contentHash)
        #expect(try await world.storage.criteria.active()?.number == restored.number)
        #expect(try await world.storage.audit.recent(limit: 1).first?.action == "criteria.rollback")
        await #expect(throws: StoreError.self) {
            try await world.administration.rollback(to: CriteriaVersion.Number(42), author: "bo", at: World.now)
        }
        await world.close()
    }

    @Test("a refused document changes nothing")
    func refusedDocument() async throws {
        let world = try await World()
        await #expect(throws: CriteriaError.self) {
            try await world.administration.apply("fit: [{ id: x }]", author: "t", comment: nil, at: World.now)
        }
        #expect(try await world.storage.criteria.history().isEmpty)
        #expect(try await world.storage.audit.recent(limit: 1).isEmpty)
        await world.close()
    }

    @Test("the default criteria are valid and installed once, on a new database")
    func defaults() async throws {
        let criteria = try Criteria(parsing: DefaultCriteria.document)
        #expect(criteria.fit.count >= 5 && criteria.engagement.count >= 8 && criteria.disqualify.count >= 2)
        let world = try await World()
        try await DatabaseLifecycle(storage: world.storage, logger: world.logger).initialize(at: World.now)
        try await DatabaseLifecycle(storage: world.storage, logger: world.logger).initialize(at: World.now)
        let history = try await world.storage.criteria.history()
        #expect(history.count == 1)
        #expect(history.first?.document == DefaultCriteria.document)
        await world.close()
    }

    @Test("line diffs: removals before additions, unchanged lines kept")
    func lineDiff() {
        let lines = LineDiff.between("a\nb\nc", "a\nx\nc\nd")
        #expect(lines == [.same("a"), .removed("b"), .added("x"), .same("c"), .added("d")])
        #expect(!LineDiff.changes(LineDiff.between("same", "same")))
    }
}

final class ProgressRecorder: @unchecked Sendable {
    // @unchecked: `stored` is only touched under `lock`.
    private let lock = NSLock()
    private var stored: [RescoreProgress] = []

    func add(_ progress: RescoreProgress) {
        lock.lock()
        stored.append(progress)
        lock.unlock()
    }

    var values: [RescoreProgress] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
